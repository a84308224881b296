// ops.cuh -- the op runners shared by timing (gpu.cu) and the self-check
// (check.cu): for each op kind, how its buffers are laid out for a
// micro-batch (plan) and which real kernels its forward and backward launch.
#ifndef GPP_KERNELS_PROFILE_PROFILER_OPS_CUH
#define GPP_KERNELS_PROFILE_PROFILER_OPS_CUH

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

extern "C" {  // the C headers below have no C++ guards of their own
#include "sim/common/err.h"
#include "sim/model/model.h"
}
#include "kernels_profile/profiler/profiler.h"

namespace gpp_prof {

enum init_kind { INIT_RANDOM, INIT_ZERO, INIT_INDEX };
constexpr int MAXBUF = 32;

// Sizes derived from an op's shape and the micro-batch.
struct dims {
  int64_t rows;   // b * tokens
  int64_t width;  // output features
  int64_t in;     // matmul input features; interaction feature width
  int64_t t, heads, hd, batch;  // attention; batch = b (or b * heads)
  int64_t bag, table;           // embedding
  int64_t n;                    // inputs (concat, elementwise, interaction)
  bool bias;                    // matmul: with a bias vector
};

struct op_run {
  int kind = 0, dt = 4;
  int64_t b = 0;
  dims d = {};
  int nbuf = 0;
  size_t count[MAXBUF] = {};
  int esize[MAXBUF] = {};
  int init[MAXBUF] = {};
  int64_t mod[MAXBUF] = {};
  float scale[MAXBUF] = {};  // INIT_RANDOM: uniform in [-scale, scale]
  void *buf[MAXBUF] = {};
  cublasHandle_t blas = nullptr;
  cudaStream_t stream = nullptr;
  cudaError_t cerr = cudaSuccess;
  cublasStatus_t berr = CUBLAS_STATUS_SUCCESS;

  // Declares buffer i (in order); esize 0 means the op's element size.
  // Index buffers hold values in [0, m); random ones lie in [-sc, sc].
  void add(size_t n, int init_kind, int es = 0, int64_t m = 0,
           float sc = 1.0f) {
    count[nbuf] = n;
    esize[nbuf] = es ? es : dt;
    init[nbuf] = init_kind;
    mod[nbuf] = m;
    scale[nbuf] = sc;
    nbuf++;
  }
  size_t bytes(int i) const { return count[i] * (size_t)esize[i]; }
  template <class T> T *p(int i) const { return static_cast<T *>(buf[i]); }
  void cuda(cudaError_t e) { if (cerr == cudaSuccess) cerr = e; }
  void cublas(cublasStatus_t s) {
    if (berr == CUBLAS_STATUS_SUCCESS) berr = s;
  }
  bool ok() const {
    return cerr == cudaSuccess && berr == CUBLAS_STATUS_SUCCESS;
  }
};

using run_fn = void (*)(op_run &);

struct kind_impl {
  int kind;
  bool (*plan)(const gpp_op *op, op_run &r);  // false: shape unsupported
  run_fn fwd[2], bwd[2];                       // [0] fp32, [1] bf16
};

const kind_impl *find_impl(int kind);
// Plans op at micro-batch b into r (no allocation); false if unsupported.
bool plan_op(const gpp_op *op, int64_t b, op_run &r);
// Allocates and initialises r's buffers deterministically from seed.
void alloc_run(op_run &r, unsigned seed);
void free_run(op_run &r);
void run_fwd(op_run &r);
void run_bwd(op_run &r);

// Raises a failed CUDA call into err (out of memory: GPP_EOOM).
int raise_cuda(gpp_errctx *err, cudaError_t e, const char *what);
// Raises r's first failure (cuBLAS or CUDA), prefixed by what.
int raise_run(const op_run &r, const char *what, gpp_errctx *err);

#define GPP_CUDA_TRY(call, what)                                              \
  do {                                                                        \
    cudaError_t e_ = (call);                                                  \
    if (e_ != cudaSuccess) return gpp_prof::raise_cuda(err, e_, what);        \
  } while (0)

// The optimizer step over n parameters of element size dt (a pseudo-kind,
// OPTIMIZER_KIND): SGD reads the gradients and updates the weights; Adam
// also updates two fp32 moments; with a master copy the fp32 master weights
// are updated and cast back -- the traffic sim/engine/memory.c counts.  Allocate
// with alloc_run, run with run_optimizer.
constexpr int OPTIMIZER_KIND = -1;
bool plan_optimizer(int64_t n, int dt, bool adam, bool master, op_run &r);
void run_optimizer(op_run &r);

}  // namespace gpp_prof

#endif
