// gpu.cu -- the profiler's device context and timing harness: CUDA events
// around each forward and backward, warm-up runs first, all allocation
// outside the timed region, and the L2 cache flushed (by writing a buffer
// twice its size) before every timed run so no run finds its operands
// cached by the previous one.
#include <cstdio>
#include <ctime>
#include <new>

#include "kernels_profile/profiler/ops.cuh"

struct gpp__prof_ctx {
  cudaStream_t stream = nullptr;
  cublasHandle_t blas = nullptr;
  void *flush = nullptr;
  size_t flush_bytes = 0;
  cudaEvent_t ev[4] = {};
};


static void version_string(int v, char *buf, size_t len) {
  snprintf(buf, len, "%d.%d", v / 1000, v % 1000 / 10);
}

static int fill_meta(int device, gpp_profile_meta *m, size_t *l2,
                     gpp_errctx *err) {
  cudaDeviceProp prop;
  GPP_CUDA_TRY(cudaGetDeviceProperties(&prop, device), "device properties");
  snprintf(m->gpu_name, sizeof m->gpu_name, "%.127s", prop.name);
  m->sm_count = prop.multiProcessorCount;
  *l2 = (size_t)prop.l2CacheSize;
  int khz = 0, drv = 0, rt = 0;
  GPP_CUDA_TRY(cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device),
           "SM clock");
  m->sm_clock_hz = khz * 1e3;
  GPP_CUDA_TRY(cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, device),
           "memory clock");
  m->mem_clock_hz = khz * 1e3;
  GPP_CUDA_TRY(cudaDriverGetVersion(&drv), "driver version");
  GPP_CUDA_TRY(cudaRuntimeGetVersion(&rt), "runtime version");
  version_string(drv, m->driver_version, sizeof m->driver_version);
  version_string(rt, m->cuda_version, sizeof m->cuda_version);
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return 0;
}

static int open_ctx(int device, gpp__prof_ctx *c, gpp_profile_meta *meta,
                    size_t *free_bytes, gpp_errctx *err) {
  GPP_CUDA_TRY(cudaSetDevice(device), "select device");
  size_t l2 = 0, total = 0;
  GPP_TRY(fill_meta(device, meta, &l2, err));
  GPP_CUDA_TRY(cudaStreamCreate(&c->stream), "stream");
  if (cublasCreate(&c->blas) != CUBLAS_STATUS_SUCCESS ||
      cublasSetStream(c->blas, c->stream) != CUBLAS_STATUS_SUCCESS)
    GPP_RAISE(err, GPP_EINTERNAL, "cuBLAS initialisation failed");
  c->flush_bytes = 2 * (l2 > 0 ? l2 : (size_t)64 << 20);
  GPP_CUDA_TRY(cudaMalloc(&c->flush, c->flush_bytes), "L2 flush buffer");
  for (cudaEvent_t &e : c->ev) GPP_CUDA_TRY(cudaEventCreate(&e), "events");
  GPP_CUDA_TRY(cudaMemGetInfo(free_bytes, &total), "memory info");
  return 0;
}

extern "C" int gpp__prof_open(int device, gpp__prof_ctx **out,
                              gpp_profile_meta *meta, size_t *free_bytes,
                              gpp_errctx *err) {
  *out = nullptr;
  gpp__prof_ctx *c = new (std::nothrow) gpp__prof_ctx();
  if (c == nullptr) GPP_RAISE(err, GPP_ENOMEM, "out of host memory");
  int rc = open_ctx(device, c, meta, free_bytes, err);
  if (rc != 0) {
    gpp__prof_close(c);
    return rc;
  }
  *out = c;
  return 0;
}

extern "C" void gpp__prof_close(gpp__prof_ctx *c) {
  if (c == nullptr) return;
  for (cudaEvent_t e : c->ev)
    if (e) cudaEventDestroy(e);
  if (c->flush) cudaFree(c->flush);
  if (c->blas) cublasDestroy(c->blas);
  if (c->stream) cudaStreamDestroy(c->stream);
  delete c;
}

static void flush_l2(gpp__prof_ctx *c, gpp_prof::op_run &r, int i) {
  r.cuda(cudaMemsetAsync(c->flush, i & 0xff, c->flush_bytes, c->stream));
}

// One timed forward and backward; seconds into *f and *b.
static void time_once(gpp__prof_ctx *c, gpp_prof::op_run &r, int i,
                      double *f, double *b) {
  float ms_f = 0, ms_b = 0;
  flush_l2(c, r, i);
  r.cuda(cudaEventRecord(c->ev[0], c->stream));
  gpp_prof::run_fwd(r);
  r.cuda(cudaEventRecord(c->ev[1], c->stream));
  flush_l2(c, r, i + 1);
  r.cuda(cudaEventRecord(c->ev[2], c->stream));
  gpp_prof::run_bwd(r);
  r.cuda(cudaEventRecord(c->ev[3], c->stream));
  r.cuda(cudaEventSynchronize(c->ev[3]));
  r.cuda(cudaEventElapsedTime(&ms_f, c->ev[0], c->ev[1]));
  r.cuda(cudaEventElapsedTime(&ms_b, c->ev[2], c->ev[3]));
  *f = ms_f * 1e-3;
  *b = ms_b * 1e-3;
}

static int run_failed(const gpp_prof::op_run &r, const gpp_op *op,
                      int64_t b, gpp_errctx *err) {
  char what[256];
  snprintf(what, sizeof what, "op '%s' at b=%lld", op->name, (long long)b);
  return gpp_prof::raise_run(r, what, err);
}

extern "C" int gpp__prof_time_op(gpp__prof_ctx *c, const gpp_op *op,
                                 int64_t b, int reps, int warmup,
                                 double *fwd, double *bwd, gpp_errctx *err) {
  gpp_prof::op_run r;
  if (!gpp_prof::plan_op(op, b, r))
    GPP_RAISE(err, GPP_EINVAL, "op '%s': no kernels for this kind or shape",
              op->name);
  r.blas = c->blas;
  r.stream = c->stream;
  gpp_prof::alloc_run(r, 2385u);
  for (int i = 0; i < warmup && r.ok(); i++) {
    gpp_prof::run_fwd(r);
    gpp_prof::run_bwd(r);
  }
  for (int i = 0; i < reps && r.ok(); i++) time_once(c, r, i, &fwd[i], &bwd[i]);
  r.cuda(cudaStreamSynchronize(c->stream));
  int rc = r.ok() ? 0 : run_failed(r, op, b, err);
  gpp_prof::free_run(r);
  return rc;
}
