// exec_gpu.cu -- gppsim-exec's CUDA side: every stage's ops as the
// profiler's real kernels (kernels_profile/profiler/ops.cu) at the stage's
// micro-batch, one compute stream per device and one copy stream for its
// outgoing transfers, the simulator's order of issue, waits across streams
// through CUDA events, and a start and an end event around every task.
//
// An iteration starts when every device has finished the previous one
// (device 0 waits for all, the others wait for device 0), so iterations
// never overlap; two sets of events alternate so that the host issues
// iteration i while the GPUs still run i - 1, and reads i - 2's times.
// Buffers are per op and reused by every micro-batch: the executor times
// the work, the values it computes are not used.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <vector>

#include "kernels_profile/profiler/ops.cuh"
#include "validate/exec_gpu.h"

namespace {

using gpp_prof::op_run;

struct dev_ctx {
  bool used = false;
  cudaStream_t compute = nullptr, copy = nullptr;
  cublasHandle_t blas = nullptr;
  void *send = nullptr, *recv = nullptr;
  size_t send_bytes = 0, recv_bytes = 0;
  cudaEvent_t ref[2] = {}, done[2] = {}, copied[2] = {};
};

struct stage_ctx {
  std::vector<op_run> ops;  // the stage's non-input ops, topological
  op_run opt;
  bool has_opt = false;
};

struct exec_ctx {
  const gpp_plan *plan;
  const gpp_result *res;
  const gpp_exec_prog *prog;
  gpp_errctx *err;
  std::vector<dev_ctx> devs;
  std::vector<stage_ctx> stages;
  std::vector<cudaEvent_t> ev[2];  // per set: 2 per issue position
};

int raise_stage(exec_ctx &x, const op_run &r, uint32_t s) {
  char what[256];
  std::snprintf(what, sizeof what, "stage '%s'", x.plan->stages[s].name);
  return gpp_prof::raise_run(r, what, x.err);
}

// ---- set-up --------------------------------------------------------------

int open_device(exec_ctx &x, int d) {
  gpp_errctx *err = x.err;
  dev_ctx &v = x.devs[d];
  GPP_CUDA_TRY(cudaSetDevice(d), "select device");
  GPP_CUDA_TRY(cudaStreamCreateWithFlags(&v.compute, cudaStreamNonBlocking),
               "stream");
  GPP_CUDA_TRY(cudaStreamCreateWithFlags(&v.copy, cudaStreamNonBlocking),
               "copy stream");
  if (cublasCreate(&v.blas) != CUBLAS_STATUS_SUCCESS ||
      cublasSetStream(v.blas, v.compute) != CUBLAS_STATUS_SUCCESS)
    GPP_RAISE(err, GPP_EINTERNAL, "cuBLAS initialisation failed on GPU %d", d);
  for (int s = 0; s < 2; s++) {
    GPP_CUDA_TRY(cudaEventCreate(&v.ref[s]), "events");
    GPP_CUDA_TRY(cudaEventCreate(&v.done[s]), "events");
    GPP_CUDA_TRY(cudaEventCreate(&v.copied[s]), "events");
  }
  return 0;
}

int open_devices(exec_ctx &x) {
  gpp_errctx *err = x.err;
  int count = 0;
  GPP_CUDA_TRY(cudaGetDeviceCount(&count), "device count");
  for (uint32_t s = 0; s < x.plan->n_stages; s++) {
    uint32_t d = x.plan->stages[s].devices[0];
    if ((int)d >= count)
      GPP_RAISE(err, GPP_EINVAL, "stage '%s' is on GPU %u but this machine "
                "has %d GPU%s", x.plan->stages[s].name, d, count,
                count == 1 ? "" : "s");
    if (x.devs.size() <= d) x.devs.resize(d + 1);
    x.devs[d].used = true;
  }
  for (size_t d = 0; d < x.devs.size(); d++)
    if (x.devs[d].used) GPP_TRY(open_device(x, (int)d));
  return 0;
}

int alloc_op(exec_ctx &x, uint32_t s, const gpp_op *op, op_run &r) {
  const gpp_plan_stage *ps = &x.plan->stages[s];
  if (!gpp_prof::plan_op(op, ps->micro_batch, r))
    GPP_RAISE_AT(x.err, GPP_EINVAL, &ps->mark, "stage '%s': op '%s' (%s) has "
                 "no kernels for its shape or element type", ps->name,
                 op->name, gpp_op_kind_name(op->kind));
  const dev_ctx &v = x.devs[ps->devices[0]];
  r.blas = v.blas;
  r.stream = v.compute;
  gpp_prof::alloc_run(r, 7919u * (unsigned)(op - x.plan->model->ops) + 1);
  return r.ok() ? 0 : raise_stage(x, r, s);
}

int alloc_optimizer(exec_ctx &x, uint32_t s, stage_ctx &sc) {
  const gpp_plan_stage *ps = &x.plan->stages[s];
  double n = 0;
  for (uint32_t i = 0; i < ps->n_ops; i++)
    n += x.plan->model->ops[ps->ops[i]].param_count;
  sc.has_opt = gpp_prof::plan_optimizer(
      (int64_t)n, x.plan->model->dtype_bytes,
      x.plan->optimizer == GPP_OPTIM_ADAM,
      x.plan->precision == GPP_PREC_MIXED, sc.opt);
  if (!sc.has_opt) return 0;
  const dev_ctx &v = x.devs[ps->devices[0]];
  sc.opt.blas = v.blas;
  sc.opt.stream = v.compute;
  gpp_prof::alloc_run(sc.opt, 104729u * (s + 1));
  return sc.opt.ok() ? 0 : raise_stage(x, sc.opt, s);
}

int alloc_stage(exec_ctx &x, uint32_t s) {
  const gpp_plan_stage *ps = &x.plan->stages[s];
  stage_ctx &sc = x.stages[s];
  gpp_errctx *err = x.err;
  GPP_CUDA_TRY(cudaSetDevice((int)ps->devices[0]), "select device");
  for (uint32_t i = 0; i < ps->n_ops; i++) {
    const gpp_op *op = &x.plan->model->ops[ps->ops[i]];
    if (op->kind == GPP_OP_INPUT) continue;
    sc.ops.emplace_back();
    GPP_TRY(alloc_op(x, s, op, sc.ops.back()));
  }
  return alloc_optimizer(x, s, sc);
}

// Transfer buffers: per device, the largest transfer it sends and receives.
int alloc_transfers(exec_ctx &x) {
  gpp_errctx *err = x.err;
  for (size_t i = 0; i < x.res->n_tasks; i++) {
    const gpp_task_rec &r = x.res->tasks[i];
    if (r.kind != GPP_TASK_ACT && r.kind != GPP_TASK_GRAD) continue;
    size_t b = (size_t)std::ceil(r.bytes);
    x.devs[r.device].send_bytes = std::max(x.devs[r.device].send_bytes, b);
    x.devs[r.peer].recv_bytes = std::max(x.devs[r.peer].recv_bytes, b);
  }
  for (size_t d = 0; d < x.devs.size(); d++) {
    dev_ctx &v = x.devs[d];
    if (!v.used) continue;
    GPP_CUDA_TRY(cudaSetDevice((int)d), "select device");
    if (v.send_bytes) GPP_CUDA_TRY(cudaMalloc(&v.send, v.send_bytes), "send buffer");
    if (v.recv_bytes) GPP_CUDA_TRY(cudaMalloc(&v.recv, v.recv_bytes), "receive buffer");
    for (size_t p = 0; p < x.devs.size(); p++)
      if (p != d && x.devs[p].used) {
        int can = 0;
        cudaDeviceCanAccessPeer(&can, (int)d, (int)p);
        if (can && cudaDeviceEnablePeerAccess((int)p, 0) != cudaSuccess)
          cudaGetLastError();  // already enabled
      }
  }
  return 0;
}

int create_events(exec_ctx &x) {
  gpp_errctx *err = x.err;
  for (int s = 0; s < 2; s++) {
    x.ev[s].assign(2 * (size_t)x.prog->n, nullptr);
    for (uint32_t k = 0; k < x.prog->n; k++) {
      uint32_t dev = x.res->tasks[x.prog->order[k]].device;
      GPP_CUDA_TRY(cudaSetDevice((int)dev), "select device");
      GPP_CUDA_TRY(cudaEventCreate(&x.ev[s][2 * k]), "events");
      GPP_CUDA_TRY(cudaEventCreate(&x.ev[s][2 * k + 1]), "events");
    }
  }
  return 0;
}

void close_all(exec_ctx &x) {
  for (stage_ctx &sc : x.stages) {
    for (op_run &r : sc.ops) gpp_prof::free_run(r);
    gpp_prof::free_run(sc.opt);
  }
  for (int s = 0; s < 2; s++)
    for (cudaEvent_t e : x.ev[s])
      if (e) cudaEventDestroy(e);
  for (size_t d = 0; d < x.devs.size(); d++) {
    dev_ctx &v = x.devs[d];
    if (!v.used) continue;
    cudaSetDevice((int)d);
    for (int s = 0; s < 2; s++)
      for (cudaEvent_t e : {v.ref[s], v.done[s], v.copied[s]})
        if (e) cudaEventDestroy(e);
    if (v.send) cudaFree(v.send);
    if (v.recv) cudaFree(v.recv);
    if (v.blas) cublasDestroy(v.blas);
    if (v.compute) cudaStreamDestroy(v.compute);
    if (v.copy) cudaStreamDestroy(v.copy);
  }
}

// ---- one iteration ---------------------------------------------------------

int first_device(const exec_ctx &x) {
  for (size_t d = 0; d < x.devs.size(); d++)
    if (x.devs[d].used) return (int)d;
  return 0;
}

// Every device starts after all finished iteration it - 1 (set 1 - s).
int begin_iteration(exec_ctx &x, uint32_t it, int s) {
  gpp_errctx *err = x.err;
  int d0 = first_device(x);
  dev_ctx &v0 = x.devs[d0];
  GPP_CUDA_TRY(cudaSetDevice(d0), "select device");
  for (size_t d = 0; it > 0 && d < x.devs.size(); d++)
    if (x.devs[d].used)
      GPP_CUDA_TRY(cudaStreamWaitEvent(v0.compute, x.devs[d].done[1 - s], 0),
                   "wait");
  GPP_CUDA_TRY(cudaEventRecord(v0.ref[s], v0.compute), "record");
  for (size_t d = 0; d < x.devs.size(); d++) {
    dev_ctx &v = x.devs[d];
    if (!v.used) continue;
    GPP_CUDA_TRY(cudaSetDevice((int)d), "select device");
    if ((int)d != d0) {
      GPP_CUDA_TRY(cudaStreamWaitEvent(v.compute, v0.ref[s], 0), "wait");
      GPP_CUDA_TRY(cudaEventRecord(v.ref[s], v.compute), "record");
    }
    GPP_CUDA_TRY(cudaStreamWaitEvent(v.copy, v.ref[s], 0), "wait");
  }
  return 0;
}

int end_iteration(exec_ctx &x, int s) {
  gpp_errctx *err = x.err;
  for (size_t d = 0; d < x.devs.size(); d++) {
    dev_ctx &v = x.devs[d];
    if (!v.used) continue;
    GPP_CUDA_TRY(cudaSetDevice((int)d), "select device");
    GPP_CUDA_TRY(cudaEventRecord(v.copied[s], v.copy), "record");
    GPP_CUDA_TRY(cudaStreamWaitEvent(v.compute, v.copied[s], 0), "wait");
    GPP_CUDA_TRY(cudaEventRecord(v.done[s], v.compute), "record");
  }
  return 0;
}

int run_compute(exec_ctx &x, const gpp_task_rec &r) {
  stage_ctx &sc = x.stages[r.stage];
  if (r.kind == GPP_TASK_OPT) {
    if (sc.has_opt) gpp_prof::run_optimizer(sc.opt);
    return sc.opt.ok() ? 0 : raise_stage(x, sc.opt, r.stage);
  }
  bool fwd = r.kind == GPP_TASK_FWD;
  size_t n = sc.ops.size();
  for (size_t i = 0; i < n; i++) {
    op_run &o = sc.ops[fwd ? i : n - 1 - i];
    if (fwd)
      gpp_prof::run_fwd(o);
    else
      gpp_prof::run_bwd(o);
    if (!o.ok()) return raise_stage(x, o, r.stage);
  }
  return 0;
}

int issue_task(exec_ctx &x, uint32_t k, int s) {
  gpp_errctx *err = x.err;
  const gpp_task_rec &r = x.res->tasks[x.prog->order[k]];
  dev_ctx &v = x.devs[r.device];
  bool xfer = r.kind == GPP_TASK_ACT || r.kind == GPP_TASK_GRAD;
  cudaStream_t st = xfer ? v.copy : v.compute;
  GPP_CUDA_TRY(cudaSetDevice((int)r.device), "select device");
  for (uint32_t i = x.prog->dep_first[k]; i < x.prog->dep_first[k + 1]; i++)
    GPP_CUDA_TRY(cudaStreamWaitEvent(st, x.ev[s][2 * x.prog->deps[i] + 1], 0),
                 "wait");
  GPP_CUDA_TRY(cudaEventRecord(x.ev[s][2 * k], st), "record");
  if (xfer)
    GPP_CUDA_TRY(cudaMemcpyPeerAsync(x.devs[r.peer].recv, (int)r.peer, v.send,
                                     (int)r.device, (size_t)std::ceil(r.bytes),
                                     st), "transfer");
  else
    GPP_TRY(run_compute(x, r));
  GPP_CUDA_TRY(cudaEventRecord(x.ev[s][2 * k + 1], st), "record");
  return 0;
}

int issue_iteration(exec_ctx &x, uint32_t it, int s) {
  GPP_TRY(begin_iteration(x, it, s));
  for (uint32_t k = 0; k < x.prog->n; k++) GPP_TRY(issue_task(x, k, s));
  return end_iteration(x, s);
}

// Seconds from device dev's iteration start (set s) to event e.
int since_ref(exec_ctx &x, uint32_t dev, int s, cudaEvent_t e, double *out) {
  gpp_errctx *err = x.err;
  float ms = 0;
  GPP_CUDA_TRY(cudaSetDevice((int)dev), "select device");
  GPP_CUDA_TRY(cudaEventElapsedTime(&ms, x.devs[dev].ref[s], e), "timing");
  *out = ms * 1e-3;
  return 0;
}

// Waits for iteration it (set s) and, past the warm-up, stores its times.
int collect(exec_ctx &x, uint32_t it, int s, gpp_measurement *m) {
  gpp_errctx *err = x.err;
  double t_end = 0, t = 0;
  for (size_t d = 0; d < x.devs.size(); d++) {
    if (!x.devs[d].used) continue;
    GPP_CUDA_TRY(cudaEventSynchronize(x.devs[d].done[s]), "iteration");
    GPP_TRY(since_ref(x, (uint32_t)d, s, x.devs[d].done[s], &t));
    t_end = std::max(t_end, t);
  }
  if (it < m->warmup) return 0;
  size_t n = x.prog->n, base = (size_t)(it - m->warmup) * n;
  m->iteration_time[it - m->warmup] = t_end;
  for (uint32_t k = 0; k < x.prog->n; k++) {
    uint32_t rec = x.prog->order[k], dev = x.res->tasks[rec].device;
    GPP_TRY(since_ref(x, dev, s, x.ev[s][2 * k], &m->start[base + rec]));
    GPP_TRY(since_ref(x, dev, s, x.ev[s][2 * k + 1], &m->end[base + rec]));
  }
  return 0;
}

int run_all(exec_ctx &x, gpp_measurement *m) {
  uint32_t total = m->warmup + m->iterations;
  for (uint32_t it = 0; it < total; it++) {
    if (it >= 2) GPP_TRY(collect(x, it - 2, (int)(it % 2), m));
    GPP_TRY(issue_iteration(x, it, (int)(it % 2)));
  }
  for (uint32_t it = total >= 2 ? total - 2 : 0; it < total; it++)
    GPP_TRY(collect(x, it, (int)(it % 2), m));
  return 0;
}

int memory_in_use(exec_ctx &x, gpp_measurement *m) {
  gpp_errctx *err = x.err;
  for (size_t d = 0; d < x.devs.size() && d < x.res->n_devices; d++) {
    m->mem_in_use[d] = NAN;
    if (!x.devs[d].used) continue;
    size_t free_b = 0, total_b = 0;
    GPP_CUDA_TRY(cudaSetDevice((int)d), "select device");
    GPP_CUDA_TRY(cudaMemGetInfo(&free_b, &total_b), "memory info");
    m->mem_in_use[d] = (double)(total_b - free_b);
  }
  for (size_t d = x.devs.size(); d < x.res->n_devices; d++)
    m->mem_in_use[d] = NAN;
  cudaDeviceProp prop;
  GPP_CUDA_TRY(cudaGetDeviceProperties(&prop, first_device(x)), "properties");
  std::snprintf(m->gpu_name, sizeof m->gpu_name, "%.127s", prop.name);
  return 0;
}

int execute(exec_ctx &x, gpp_measurement *m) {
  GPP_TRY(open_devices(x));
  x.stages.resize(x.plan->n_stages);
  for (uint32_t s = 0; s < x.plan->n_stages; s++) GPP_TRY(alloc_stage(x, s));
  GPP_TRY(alloc_transfers(x));
  GPP_TRY(create_events(x));
  GPP_TRY(memory_in_use(x, m));
  return run_all(x, m);
}

}  // namespace

extern "C" int gpp_exec_gpu_run(const gpp_plan *plan, const gpp_result *res,
                                const gpp_exec_prog *prog,
                                uint32_t iterations, uint32_t warmup,
                                gpp_measurement *m, gpp_errctx *err) {
  *m = gpp_measurement();
  GPP_TRY(gpp_measurement_alloc(m, iterations, res->n_tasks, res->n_devices,
                                err));
  m->warmup = warmup;
  exec_ctx *x = new (std::nothrow) exec_ctx{plan, res, prog, err, {}, {}, {}};
  int rc = x ? execute(*x, m) : GPP_ERR(err, GPP_ENOMEM, "out of host memory");
  if (x) {
    close_all(*x);
    delete x;
  }
  if (rc != 0) gpp_measurement_free(m);
  return rc;
}
