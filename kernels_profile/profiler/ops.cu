// ops.cu -- the real forward and backward kernels of every profiled op kind:
// cuBLAS GEMMs (strided batched for attention and feature interaction) and
// simple hand-written kernels where cuBLAS has nothing (softmax, layernorm,
// GELU, ReLU, embedding bag, elementwise add, loss, bias, head layout).
// Element types are fp32 (dt=4) and bf16 (dt=2); reductions accumulate in
// fp32.  Each kind computes what sim/model/model_derive.c counts for it:
//   matmul       Y = X W (+ b when the op has a bias)
//   attention    multi-head self-attention with its projections: QKV =
//                X Wqkv + bqkv (the 3 h x h GEMMs fused as one h x 3h),
//                per head softmax(Q K^T / sqrt(d)) V, Y = O Wo + bo
//   embedding    embedding bag: tokens x bag lookups of a rows x w table
//   concat       the inputs side by side
//   interaction  F inputs of d: the first input, then the F(F-1)/2 pairwise
//                dot products (Z = X X^T, strictly lower triangle)
//   elementwise  a k-way sum
//   pool         the mean over a sample's tokens, per column
//   loss         sum of squared differences over the input's elements
//   layernorm, softmax, gelu, relu: row-wise / pointwise.
#include <cmath>

#include "kernels_profile/profiler/ops.cuh"

namespace gpp_prof {

using bf16 = __nv_bfloat16;
constexpr int THREADS = 256;

__device__ __forceinline__ float f(float x) { return x; }
__device__ __forceinline__ float f(bf16 x) { return __bfloat162float(x); }
template <class T> __device__ __forceinline__ T to(float x);
template <> __device__ __forceinline__ float to<float>(float x) { return x; }
template <> __device__ __forceinline__ bf16 to<bf16>(float x) {
  return __float2bfloat16(x);
}

static unsigned grid_for(size_t n) {
  size_t g = (n + THREADS - 1) / THREADS;
  return (unsigned)(g < 65535 * 8 ? (g ? g : 1) : 65535 * 8);
}

#define GRID_STRIDE(i, n)                                                     \
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n);     \
       i += (size_t)gridDim.x * blockDim.x)

// ---- initialisation ----------------------------------------------------

__device__ __forceinline__ unsigned hash(size_t i, unsigned seed) {
  unsigned x = (unsigned)i * 2654435761u ^ (unsigned)(i >> 32) ^ seed;
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu;
  return x ^ (x >> 16);
}

template <class T>
__global__ void fill_random(T *p, size_t n, unsigned seed, float scale) {
  GRID_STRIDE(i, n)
    p[i] = to<T>(scale * ((hash(i, seed) >> 8) / 8388608.0f - 1.0f));
}

__global__ void fill_index(int *p, size_t n, unsigned seed, int64_t mod) {
  GRID_STRIDE(i, n) p[i] = (int)(hash(i, seed) % (unsigned)mod);
}

// ---- block reductions --------------------------------------------------

__device__ float block_sum(float v) {
  __shared__ float s[32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) s[warp] = v;
  __syncthreads();
  float r = 0;
  for (int w = 0; w < (int)(blockDim.x + 31) / 32; w++) r += s[w];
  return r;
}

__device__ float block_max(float v) {
  __shared__ float s[32];
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) s[warp] = v;
  __syncthreads();
  float r = -INFINITY;
  for (int w = 0; w < (int)(blockDim.x + 31) / 32; w++) r = fmaxf(r, s[w]);
  return r;
}

// ---- elementwise -------------------------------------------------------

__device__ __forceinline__ float gelu(float x) {
  const float k = 0.7978845608f;  // sqrt(2/pi)
  return 0.5f * x * (1.0f + tanhf(k * (x + 0.044715f * x * x * x)));
}

__device__ __forceinline__ float gelu_grad(float x) {
  const float k = 0.7978845608f;
  float u = k * (x + 0.044715f * x * x * x), th = tanhf(u);
  return 0.5f * (1 + th) + 0.5f * x * (1 - th * th) * k *
                               (1 + 3 * 0.044715f * x * x);
}

template <class T> __global__ void gelu_fwd(const T *x, T *y, size_t n) {
  GRID_STRIDE(i, n) y[i] = to<T>(gelu(f(x[i])));
}
template <class T>
__global__ void gelu_bwd(const T *x, const T *dy, T *dx, size_t n) {
  GRID_STRIDE(i, n) dx[i] = to<T>(f(dy[i]) * gelu_grad(f(x[i])));
}
template <class T> __global__ void relu_fwd(const T *x, T *y, size_t n) {
  GRID_STRIDE(i, n) y[i] = to<T>(fmaxf(f(x[i]), 0.0f));
}
template <class T>
__global__ void relu_bwd(const T *x, const T *dy, T *dx, size_t n) {
  GRID_STRIDE(i, n) dx[i] = to<T>(f(x[i]) > 0 ? f(dy[i]) : 0.0f);
}
// y = sum of n inputs stored one after another (stride elements apart).
template <class T>
__global__ void add_fwd(const T *x, int64_t n_in, size_t stride, T *y,
                        size_t n) {
  GRID_STRIDE(i, n) {
    float s = 0;
    for (int64_t k = 0; k < n_in; k++) s += f(x[k * stride + i]);
    y[i] = to<T>(s);
  }
}
template <class T>
__global__ void add_bwd(const T *dy, int64_t n_in, size_t stride, T *dx,
                        size_t n) {
  GRID_STRIDE(i, n) {
    T g = dy[i];
    for (int64_t k = 0; k < n_in; k++) dx[k * stride + i] = g;
  }
}

// y[i] += bias[i % w] over rows x w.
template <class T>
__global__ void bias_add(T *y, const T *bias, int64_t w, size_t n) {
  GRID_STRIDE(i, n) y[i] = to<T>(f(y[i]) + f(bias[i % w]));
}

// out[j] = sum over rows of x[r][j]: a 32-column tile per block, 8 row
// lanes (the bias gradient).
template <class T>
__global__ void col_sum(const T *x, T *out, int64_t rows, int64_t w) {
  __shared__ float sm[8][33];
  int64_t j = blockIdx.x * 32 + threadIdx.x;
  float a = 0;
  if (j < w)
    for (int64_t r = threadIdx.y; r < rows; r += 8) a += f(x[r * w + j]);
  sm[threadIdx.y][threadIdx.x] = a;
  __syncthreads();
  if (threadIdx.y != 0 || j >= w) return;
  for (int k = 1; k < 8; k++) a += sm[k][threadIdx.x];
  out[j] = to<T>(a);
}

// Head layout.  flat: [b*t][parts*H*D] rows of `parts` blocks of H heads of
// D (e.g. Q|K|V); heads: [parts][b*H][t][D].  split adds bias (parts*H*D,
// may be null) on the way.
__device__ __forceinline__ size_t flat_index(size_t e, int64_t b, int64_t t,
                                             int64_t H, int64_t D,
                                             int64_t parts, size_t *col) {
  int64_t d = e % D, tt = e / D % t, h = e / (D * t) % H,
          s = e / (D * t * H) % b, p = e / (D * t * H * b);
  *col = (size_t)(p * H * D + h * D + d);
  return (size_t)(s * t + tt) * (size_t)(parts * H * D) + *col;
}

template <class T>
__global__ void split_heads(const T *flat, const T *bias, T *heads, int64_t b,
                            int64_t t, int64_t H, int64_t D, int64_t parts,
                            size_t n) {
  GRID_STRIDE(e, n) {
    size_t col, i = flat_index(e, b, t, H, D, parts, &col);
    heads[e] = bias ? to<T>(f(flat[i]) + f(bias[col])) : flat[i];
  }
}

template <class T>
__global__ void merge_heads(const T *heads, T *flat, int64_t b, int64_t t,
                            int64_t H, int64_t D, int64_t parts, size_t n) {
  GRID_STRIDE(e, n) {
    size_t col, i = flat_index(e, b, t, H, D, parts, &col);
    flat[i] = heads[e];
  }
}

// ---- loss: sum of squared differences ------------------------------------

template <class T>
__global__ void sse_fwd(const T *x, const T *target, float *loss, size_t n) {
  float s = 0;
  GRID_STRIDE(i, n) {
    float d = f(x[i]) - f(target[i]);
    s += d * d;
  }
  s = block_sum(s);
  if (threadIdx.x == 0) atomicAdd(loss, s);
}

template <class T>
__global__ void sse_bwd(const T *x, const T *target, T *dx, size_t n) {
  GRID_STRIDE(i, n) dx[i] = to<T>(2.0f * (f(x[i]) - f(target[i])));
}

// ---- row kernels: one block per row ------------------------------------

template <class T>
__global__ void softmax_fwd(const T *x, T *y, int64_t w) {
  const T *xr = x + blockIdx.x * w;
  T *yr = y + blockIdx.x * w;
  float m = -INFINITY;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) m = fmaxf(m, f(xr[j]));
  m = block_max(m);
  float s = 0;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) s += expf(f(xr[j]) - m);
  s = block_sum(s);
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x)
    yr[j] = to<T>(expf(f(xr[j]) - m) / s);
}

// dx = scale * y * (dy - sum(dy * y)); dx may alias dy.
template <class T>
__global__ void softmax_bwd(const T *y, const T *dy, T *dx, int64_t w,
                            float scale) {
  size_t o = blockIdx.x * (size_t)w;
  float s = 0;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x)
    s += f(dy[o + j]) * f(y[o + j]);
  s = block_sum(s);
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x)
    dx[o + j] = to<T>(scale * f(y[o + j]) * (f(dy[o + j]) - s));
}

template <class T>
__global__ void layernorm_fwd(const T *x, const T *g, const T *beta, T *y,
                              float *mean, float *rstd, int64_t w) {
  size_t o = blockIdx.x * (size_t)w;
  float s = 0;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) s += f(x[o + j]);
  float mu = block_sum(s) / w;
  float v = 0;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) {
    float c = f(x[o + j]) - mu;
    v += c * c;
  }
  float rs = rsqrtf(block_sum(v) / w + 1e-5f);
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x)
    y[o + j] = to<T>((f(x[o + j]) - mu) * rs * f(g[j]) + f(beta[j]));
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = mu;
    rstd[blockIdx.x] = rs;
  }
}

template <class T>
__global__ void layernorm_bwd_dx(const T *x, const T *g, const T *dy,
                                 const float *mean, const float *rstd, T *dx,
                                 int64_t w) {
  size_t o = blockIdx.x * (size_t)w;
  float mu = mean[blockIdx.x], rs = rstd[blockIdx.x], a = 0, c = 0;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) {
    float gd = f(g[j]) * f(dy[o + j]);
    a += gd;
    c += gd * (f(x[o + j]) - mu) * rs;
  }
  a = block_sum(a) / w;
  c = block_sum(c) / w;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) {
    float xh = (f(x[o + j]) - mu) * rs;
    dx[o + j] = to<T>(rs * (f(g[j]) * f(dy[o + j]) - a - xh * c));
  }
}

// dgamma, dbeta: a 32-column tile per block, 8 row lanes.
template <class T>
__global__ void layernorm_bwd_params(const T *x, const T *dy,
                                     const float *mean, const float *rstd,
                                     T *dg, T *db, int64_t rows, int64_t w) {
  __shared__ float sg[8][33], sb[8][33];
  int64_t j = blockIdx.x * 32 + threadIdx.x;
  float ag = 0, ab = 0;
  if (j < w)
    for (int64_t r = threadIdx.y; r < rows; r += 8) {
      float d = f(dy[r * w + j]);
      ag += d * (f(x[r * w + j]) - mean[r]) * rstd[r];
      ab += d;
    }
  sg[threadIdx.y][threadIdx.x] = ag;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y != 0 || j >= w) return;
  for (int k = 1; k < 8; k++) {
    ag += sg[k][threadIdx.x];
    ab += sb[k][threadIdx.x];
  }
  dg[j] = to<T>(ag);
  db[j] = to<T>(ab);
}

// ---- embedding bag -----------------------------------------------------

template <class T>
__global__ void embag_fwd(const T *table, const int *idx, T *out, int64_t bag,
                          int64_t w) {
  const int *ix = idx + blockIdx.x * bag;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) {
    float s = 0;
    for (int64_t k = 0; k < bag; k++) s += f(table[(size_t)ix[k] * w + j]);
    out[blockIdx.x * w + j] = to<T>(s);
  }
}

template <class T>
__global__ void embag_bwd(const T *dy, const int *idx, T *dtable, int64_t bag,
                          int64_t w) {
  const int *ix = idx + blockIdx.x * bag;
  for (int64_t j = threadIdx.x; j < w; j += blockDim.x) {
    T g = dy[blockIdx.x * w + j];
    for (int64_t k = 0; k < bag; k++)
      atomicAdd(&dtable[(size_t)ix[k] * w + j], g);
  }
}

// ---- feature interaction -------------------------------------------------
// Per sample the output row is d + P wide (P = F(F-1)/2): the first
// feature, then the strictly lower triangle of Z = X X^T row by row.

template <class T>
__global__ void tri_extract(const T *z, T *out, int64_t F, int64_t d,
                            size_t total) {
  int64_t P = F * (F - 1) / 2;
  GRID_STRIDE(e, total) {
    int64_t b = e / (F * F), i = e / F % F, j = e % F;
    if (i > j) out[b * (d + P) + d + i * (i - 1) / 2 + j] = z[e];
  }
}

template <class T>
__global__ void tri_scatter(const T *dout, T *dz, int64_t F, int64_t d,
                            size_t total) {
  int64_t P = F * (F - 1) / 2;
  GRID_STRIDE(e, total) {
    int64_t b = e / (F * F), i = e / F % F, j = e % F;
    dz[e] = i > j ? dout[b * (d + P) + d + i * (i - 1) / 2 + j]
                  : to<T>(0.0f);
  }
}

// Forward: out[s][0:d] = x[s][0][0:d]; backward (add): dx[s][0] += dout[s].
template <class T>
__global__ void first_feature(const T *src, T *dst, int64_t F, int64_t d,
                              bool backward, size_t total) {
  int64_t P = F * (F - 1) / 2;
  GRID_STRIDE(e, total) {
    int64_t s = e / d, k = e % d;
    if (backward)
      dst[s * F * d + k] = to<T>(f(dst[s * F * d + k]) + f(src[s * (d + P) + k]));
    else
      dst[s * (d + P) + k] = src[s * F * d + k];
  }
}

// ---- cuBLAS on row-major matrices ---------------------------------------

template <class T> constexpr cudaDataType cuda_type();
template <> constexpr cudaDataType cuda_type<float>() { return CUDA_R_32F; }
template <> constexpr cudaDataType cuda_type<bf16>() { return CUDA_R_16BF; }

struct mat {
  const void *p;
  int64_t ld, stride;  // row-major leading dimension; batch stride
  bool trans;
};

// C[M,N] (+)= alpha * op(A) op(B), row-major, batch times with strides:
// computed as the column-major C^T = op(B)^T op(A)^T.
template <class T>
static void gemm(op_run &r, int64_t M, int64_t N, int64_t K, mat A, mat B,
                 void *C, int64_t ldc, int64_t sc, int64_t batch,
                 float alpha = 1, float beta = 0) {
  cublasOperation_t ta = A.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasOperation_t tb = B.trans ? CUBLAS_OP_T : CUBLAS_OP_N;
  cudaDataType ty = cuda_type<T>();
  if (batch == 1)
    r.cublas(cublasGemmEx(r.blas, tb, ta, (int)N, (int)M, (int)K, &alpha,
                          B.p, ty, (int)B.ld, A.p, ty, (int)A.ld, &beta, C,
                          ty, (int)ldc, CUBLAS_COMPUTE_32F,
                          CUBLAS_GEMM_DEFAULT));
  else
    r.cublas(cublasGemmStridedBatchedEx(
        r.blas, tb, ta, (int)N, (int)M, (int)K, &alpha, B.p, ty, (int)B.ld,
        B.stride, A.p, ty, (int)A.ld, A.stride, &beta, C, ty, (int)ldc, sc,
        (int)batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

#define LAUNCH_ROWS(kernel, rows, ...)                                        \
  kernel<<<(unsigned)(rows), THREADS, 0, r.stream>>>(__VA_ARGS__)
#define LAUNCH_FLAT(kernel, n, ...)                                           \
  kernel<<<grid_for(n), THREADS, 0, r.stream>>>(__VA_ARGS__)

// ---- matmul: Y[M,N] = X[M,K] W[K,N] --------------------------------------

// Y[rows, w] += bias; dbias = column sums of dY.
template <class T>
static void add_bias(op_run &r, int y, int bias, int64_t rows, int64_t w) {
  size_t n = (size_t)(rows * w);
  LAUNCH_FLAT(bias_add<T>, n, r.p<T>(y), r.p<T>(bias), w, n);
}
template <class T>
static void bias_grad(op_run &r, int dy, int dbias, int64_t rows, int64_t w) {
  dim3 grid((unsigned)((w + 31) / 32)), block(32, 8);
  col_sum<T><<<grid, block, 0, r.stream>>>(r.p<T>(dy), r.p<T>(dbias), rows,
                                           w);
}

static float init_scale(int64_t fan_in) {
  return 1.0f / sqrtf((float)(fan_in > 0 ? fan_in : 1));
}

enum { MM_X, MM_W, MM_Y, MM_DY, MM_DX, MM_DW, MM_B, MM_DB };

static bool plan_matmul(const gpp_op *op, op_run &r) {
  int64_t M = r.d.rows, K = op->shape.in_width, N = op->shape.width;
  if (K < 1 || N < 1) return false;
  r.d.in = K;
  r.d.width = N;
  r.d.bias = gpp_op_has_bias(op);
  r.add(M * K, INIT_RANDOM);
  r.add(K * N, INIT_RANDOM, 0, 0, init_scale(K));
  r.add(M * N, INIT_ZERO);
  r.add(M * N, INIT_RANDOM);
  r.add(M * K, INIT_ZERO);
  r.add(K * N, INIT_ZERO);
  if (r.d.bias) {
    r.add(N, INIT_RANDOM);
    r.add(N, INIT_ZERO);
  }
  return true;
}

template <class T> static void matmul_fwd(op_run &r) {
  int64_t M = r.d.rows, K = r.d.in, N = r.d.width;
  gemm<T>(r, M, N, K, {r.buf[MM_X], K, 0, false}, {r.buf[MM_W], N, 0, false},
          r.buf[MM_Y], N, 0, 1);
  if (r.d.bias) add_bias<T>(r, MM_Y, MM_B, M, N);
}

template <class T> static void matmul_bwd(op_run &r) {
  int64_t M = r.d.rows, K = r.d.in, N = r.d.width;
  gemm<T>(r, M, K, N, {r.buf[MM_DY], N, 0, false}, {r.buf[MM_W], N, 0, true},
          r.buf[MM_DX], K, 0, 1);
  gemm<T>(r, K, N, M, {r.buf[MM_X], K, 0, true}, {r.buf[MM_DY], N, 0, false},
          r.buf[MM_DW], N, 0, 1);
  if (r.d.bias) bias_grad<T>(r, MM_DY, MM_DB, M, N);
}

// ---- attention: projections and per-head core ----------------------------
// Forward: QKV = X Wqkv (M x 3W), split into heads with bqkv added
// (AT_QKVH: Q | K | V, each [b*H][T][D]); S = Q K^T / sqrt(D), P =
// softmax(S), O = P V; merged to OC (M x W); Y = OC Wo + bo.  Backward in
// reverse: dbo, dWo, dOC, dO (split), the core's dQ dK dV (AT_DQKVH),
// merged to dQKV (M x 3W), dbqkv, dWqkv, dX.

enum {
  AT_X, AT_WQKV, AT_BQKV, AT_QKV, AT_QKVH, AT_S, AT_P, AT_O, AT_OC, AT_WO,
  AT_BO, AT_Y,
  AT_DY, AT_DBO, AT_DWO, AT_DOC, AT_DO, AT_DQKVH, AT_DQKV, AT_DBQKV,
  AT_DWQKV, AT_DX
};

static bool plan_attention(const gpp_op *op, op_run &r) {
  int64_t T = op->shape.tokens, H = op->shape.heads, W = op->shape.width;
  if (T < 1 || H < 1 || W < H || W % H != 0) return false;
  r.d.t = T;
  r.d.heads = H;
  r.d.hd = W / H;
  r.d.width = W;
  r.d.batch = r.b * H;
  size_t mw = (size_t)(r.d.rows * W), tt = (size_t)(r.d.batch * T * T);
  float ws = init_scale(W);
  r.add(mw, INIT_RANDOM);                           // X
  r.add((size_t)(W * 3 * W), INIT_RANDOM, 0, 0, ws);  // Wqkv
  r.add((size_t)(3 * W), INIT_RANDOM, 0, 0, ws);    // bqkv
  r.add(3 * mw, INIT_ZERO);                         // QKV
  r.add(3 * mw, INIT_ZERO);                         // Q | K | V by head
  r.add(tt, INIT_ZERO);                             // S, then dP and dS
  r.add(tt, INIT_ZERO);                             // P
  r.add(mw, INIT_ZERO);                             // O by head
  r.add(mw, INIT_ZERO);                             // O merged
  r.add((size_t)(W * W), INIT_RANDOM, 0, 0, ws);    // Wo
  r.add((size_t)W, INIT_RANDOM, 0, 0, ws);          // bo
  r.add(mw, INIT_ZERO);                             // Y
  r.add(mw, INIT_RANDOM);                           // dY
  r.add((size_t)W, INIT_ZERO);                      // dbo
  r.add((size_t)(W * W), INIT_ZERO);                // dWo
  r.add(mw, INIT_ZERO);                             // dO merged
  r.add(mw, INIT_ZERO);                             // dO by head
  r.add(3 * mw, INIT_ZERO);                         // dQ | dK | dV by head
  r.add(3 * mw, INIT_ZERO);                         // dQKV
  r.add((size_t)(3 * W), INIT_ZERO);                // dbqkv
  r.add((size_t)(W * 3 * W), INIT_ZERO);            // dWqkv
  r.add(mw, INIT_ZERO);                             // dX
  return true;
}

// Head part p (0 Q, 1 K, 2 V) of a [3][b*H][T][D] buffer.
template <class T> static T *part(op_run &r, int buf, int p) {
  return r.p<T>(buf) + (size_t)p * (size_t)(r.d.rows * r.d.width);
}

template <class T>
static void heads_layout(op_run &r, int from, int to, const T *bias,
                         int64_t parts, bool split) {
  size_t n = (size_t)(parts * r.d.rows * r.d.width);
  if (split)
    LAUNCH_FLAT(split_heads<T>, n, r.p<T>(from), bias, r.p<T>(to), r.b,
                r.d.t, r.d.heads, r.d.hd, parts, n);
  else
    LAUNCH_FLAT(merge_heads<T>, n, r.p<T>(from), r.p<T>(to), r.b, r.d.t,
                r.d.heads, r.d.hd, parts, n);
}

template <class T> static void attention_fwd(op_run &r) {
  int64_t B = r.d.batch, L = r.d.t, D = r.d.hd, M = r.d.rows, W = r.d.width;
  float scale = 1.0f / sqrtf((float)D);
  gemm<T>(r, M, 3 * W, W, {r.buf[AT_X], W, 0, false},
          {r.buf[AT_WQKV], 3 * W, 0, false}, r.buf[AT_QKV], 3 * W, 0, 1);
  heads_layout<T>(r, AT_QKV, AT_QKVH, r.p<T>(AT_BQKV), 3, true);
  const T *q = part<T>(r, AT_QKVH, 0), *k = part<T>(r, AT_QKVH, 1),
          *v = part<T>(r, AT_QKVH, 2);
  gemm<T>(r, L, L, D, {q, D, L * D, false}, {k, D, L * D, true},
          r.buf[AT_S], L, L * L, B, scale);
  LAUNCH_ROWS(softmax_fwd<T>, B * L, r.p<T>(AT_S), r.p<T>(AT_P), L);
  gemm<T>(r, L, D, L, {r.buf[AT_P], L, L * L, false}, {v, D, L * D, false},
          r.buf[AT_O], D, L * D, B);
  heads_layout<T>(r, AT_O, AT_OC, (const T *)nullptr, 1, false);
  gemm<T>(r, M, W, W, {r.buf[AT_OC], W, 0, false}, {r.buf[AT_WO], W, 0, false},
          r.buf[AT_Y], W, 0, 1);
  add_bias<T>(r, AT_Y, AT_BO, M, W);
}

template <class T> static void attention_bwd(op_run &r) {
  int64_t B = r.d.batch, L = r.d.t, D = r.d.hd, M = r.d.rows, W = r.d.width;
  float scale = 1.0f / sqrtf((float)D);
  // Output projection.
  bias_grad<T>(r, AT_DY, AT_DBO, M, W);
  gemm<T>(r, W, W, M, {r.buf[AT_OC], W, 0, true}, {r.buf[AT_DY], W, 0, false},
          r.buf[AT_DWO], W, 0, 1);                              // dWo
  gemm<T>(r, M, W, W, {r.buf[AT_DY], W, 0, false}, {r.buf[AT_WO], W, 0, true},
          r.buf[AT_DOC], W, 0, 1);                              // dOC
  heads_layout<T>(r, AT_DOC, AT_DO, (const T *)nullptr, 1, true);
  // Core.
  const T *q = part<T>(r, AT_QKVH, 0), *k = part<T>(r, AT_QKVH, 1),
          *v = part<T>(r, AT_QKVH, 2);
  T *dq = part<T>(r, AT_DQKVH, 0), *dk = part<T>(r, AT_DQKVH, 1),
    *dv = part<T>(r, AT_DQKVH, 2);
  gemm<T>(r, L, L, D, {r.buf[AT_DO], D, L * D, false},  // dP = dO V^T
          {v, D, L * D, true}, r.buf[AT_S], L, L * L, B);
  gemm<T>(r, L, D, L, {r.buf[AT_P], L, L * L, true},    // dV = P^T dO
          {r.buf[AT_DO], D, L * D, false}, dv, D, L * D, B);
  LAUNCH_ROWS(softmax_bwd<T>, B * L, r.p<T>(AT_P), r.p<T>(AT_S),
              r.p<T>(AT_S), L, scale);                  // dS, in place
  gemm<T>(r, L, D, L, {r.buf[AT_S], L, L * L, false},   // dQ = dS K
          {k, D, L * D, false}, dq, D, L * D, B);
  gemm<T>(r, L, D, L, {r.buf[AT_S], L, L * L, true},    // dK = dS^T Q
          {q, D, L * D, false}, dk, D, L * D, B);
  // QKV projection.
  heads_layout<T>(r, AT_DQKVH, AT_DQKV, (const T *)nullptr, 3, false);
  bias_grad<T>(r, AT_DQKV, AT_DBQKV, M, 3 * W);
  gemm<T>(r, W, 3 * W, M, {r.buf[AT_X], W, 0, true},
          {r.buf[AT_DQKV], 3 * W, 0, false}, r.buf[AT_DWQKV], 3 * W, 0, 1);
  gemm<T>(r, M, W, 3 * W, {r.buf[AT_DQKV], 3 * W, 0, false},
          {r.buf[AT_WQKV], 3 * W, 0, true}, r.buf[AT_DX], W, 0, 1);
}

// ---- row-wise ops: rows x width -----------------------------------------

enum { RW_X, RW_Y, RW_DY, RW_DX, LN_G, LN_B, LN_MEAN, LN_RSTD, LN_DG, LN_DB };

static bool plan_rowwise(const gpp_op *op, op_run &r) {
  int64_t n = r.d.rows * op->shape.width;
  if (op->shape.width < 1) return false;
  r.d.width = op->shape.width;
  r.add(n, INIT_RANDOM);
  r.add(n, INIT_ZERO);
  r.add(n, INIT_RANDOM);
  r.add(n, INIT_ZERO);
  return true;
}

static bool plan_layernorm(const gpp_op *op, op_run &r) {
  if (!plan_rowwise(op, r)) return false;
  r.add(r.d.width, INIT_RANDOM);
  r.add(r.d.width, INIT_RANDOM);
  r.add(r.d.rows, INIT_ZERO, 4);
  r.add(r.d.rows, INIT_ZERO, 4);
  r.add(r.d.width, INIT_ZERO);
  r.add(r.d.width, INIT_ZERO);
  return true;
}

template <class T> static void softmax_fwd_run(op_run &r) {
  LAUNCH_ROWS(softmax_fwd<T>, r.d.rows, r.p<T>(RW_X), r.p<T>(RW_Y),
              r.d.width);
}
template <class T> static void softmax_bwd_run(op_run &r) {
  LAUNCH_ROWS(softmax_bwd<T>, r.d.rows, r.p<T>(RW_Y), r.p<T>(RW_DY),
              r.p<T>(RW_DX), r.d.width, 1.0f);
}
template <class T> static void gelu_fwd_run(op_run &r) {
  LAUNCH_FLAT(gelu_fwd<T>, r.count[RW_X], r.p<T>(RW_X), r.p<T>(RW_Y),
              r.count[RW_X]);
}
template <class T> static void gelu_bwd_run(op_run &r) {
  LAUNCH_FLAT(gelu_bwd<T>, r.count[RW_X], r.p<T>(RW_X), r.p<T>(RW_DY),
              r.p<T>(RW_DX), r.count[RW_X]);
}
template <class T> static void relu_fwd_run(op_run &r) {
  LAUNCH_FLAT(relu_fwd<T>, r.count[RW_X], r.p<T>(RW_X), r.p<T>(RW_Y),
              r.count[RW_X]);
}
template <class T> static void relu_bwd_run(op_run &r) {
  LAUNCH_FLAT(relu_bwd<T>, r.count[RW_X], r.p<T>(RW_X), r.p<T>(RW_DY),
              r.p<T>(RW_DX), r.count[RW_X]);
}

template <class T> static void layernorm_fwd_run(op_run &r) {
  LAUNCH_ROWS(layernorm_fwd<T>, r.d.rows, r.p<T>(RW_X), r.p<T>(LN_G),
              r.p<T>(LN_B), r.p<T>(RW_Y), r.p<float>(LN_MEAN),
              r.p<float>(LN_RSTD), r.d.width);
}
template <class T> static void layernorm_bwd_run(op_run &r) {
  LAUNCH_ROWS(layernorm_bwd_dx<T>, r.d.rows, r.p<T>(RW_X), r.p<T>(LN_G),
              r.p<T>(RW_DY), r.p<float>(LN_MEAN), r.p<float>(LN_RSTD),
              r.p<T>(RW_DX), r.d.width);
  dim3 grid((unsigned)((r.d.width + 31) / 32)), block(32, 8);
  layernorm_bwd_params<T><<<grid, block, 0, r.stream>>>(
      r.p<T>(RW_X), r.p<T>(RW_DY), r.p<float>(LN_MEAN), r.p<float>(LN_RSTD),
      r.p<T>(LN_DG), r.p<T>(LN_DB), r.d.rows, r.d.width);
}

// ---- loss: sum over the input's elements of (x - target)^2 -------------

enum { LS_X, LS_TARGET, LS_LOSS, LS_DX };

static bool plan_loss(const gpp_op *op, op_run &r) {
  int64_t d = op->shape.in_width;
  if (d < 1) return false;
  r.d.in = d;
  size_t n = (size_t)(r.d.rows * d);  // rows = b (tokens is 1)
  r.add(n, INIT_RANDOM);
  r.add(n, INIT_RANDOM);
  r.add(1, INIT_ZERO, 4);
  r.add(n, INIT_ZERO);
  return true;
}

template <class T> static void loss_fwd(op_run &r) {
  size_t n = r.count[LS_X];
  r.cuda(cudaMemsetAsync(r.buf[LS_LOSS], 0, sizeof(float), r.stream));
  LAUNCH_FLAT(sse_fwd<T>, n, r.p<T>(LS_X), r.p<T>(LS_TARGET),
              r.p<float>(LS_LOSS), n);
}
template <class T> static void loss_bwd(op_run &r) {
  size_t n = r.count[LS_X];
  LAUNCH_FLAT(sse_bwd<T>, n, r.p<T>(LS_X), r.p<T>(LS_TARGET), r.p<T>(LS_DX),
              n);
}

// ---- embedding bag: each of b*tokens outputs sums `bag` table rows -------

enum { EB_TABLE, EB_IDX, EB_OUT, EB_DY, EB_DTABLE };

static bool plan_embedding(const gpp_op *op, op_run &r) {
  const gpp_op_shape &s = op->shape;
  if (s.rows < 1 || s.width < 1 || s.bag < 1 || s.rows > INT32_MAX)
    return false;
  r.d.width = s.width;
  r.d.bag = s.bag;
  r.d.table = s.rows;
  r.add(s.rows * s.width, INIT_RANDOM);
  r.add(r.d.rows * s.bag, INIT_INDEX, 4, s.rows);
  r.add(r.d.rows * s.width, INIT_ZERO);
  r.add(r.d.rows * s.width, INIT_RANDOM);
  r.add(s.rows * s.width, INIT_ZERO);
  return true;
}

template <class T> static void embedding_fwd(op_run &r) {
  LAUNCH_ROWS(embag_fwd<T>, r.d.rows, r.p<T>(EB_TABLE), r.p<int>(EB_IDX),
              r.p<T>(EB_OUT), r.d.bag, r.d.width);
}
template <class T> static void embedding_bwd(op_run &r) {
  LAUNCH_ROWS(embag_bwd<T>, r.d.rows, r.p<T>(EB_DY), r.p<int>(EB_IDX),
              r.p<T>(EB_DTABLE), r.d.bag, r.d.width);
}

// ---- concat: n inputs of rows x (width/n, the last takes the rest) -------

enum { CC_X, CC_Y, CC_DY, CC_DX };

static int64_t part_width(const op_run &r, int64_t k) {
  int64_t base = r.d.width / r.d.n;
  return k + 1 < r.d.n ? base : r.d.width - base * (r.d.n - 1);
}

static bool plan_concat(const gpp_op *op, op_run &r) {
  r.d.n = op->n_inputs > 0 ? op->n_inputs : 1;
  r.d.width = op->shape.width;
  if (r.d.width < r.d.n) return false;
  int64_t n = r.d.rows * r.d.width;
  r.add(n, INIT_RANDOM);  // the inputs, one after another
  r.add(n, INIT_ZERO);
  r.add(n, INIT_RANDOM);
  r.add(n, INIT_ZERO);
  return true;
}

// Copies each part between its own buffer and its columns of the output.
static void concat_copies(op_run &r, int parts, int whole, bool to_whole) {
  size_t es = (size_t)r.dt, off = 0, col = 0;
  char *pb = static_cast<char *>(r.buf[parts]);
  char *wb = static_cast<char *>(r.buf[whole]);
  for (int64_t k = 0; k < r.d.n; k++) {
    size_t wk = (size_t)part_width(r, k) * es, W = (size_t)r.d.width * es;
    if (to_whole)
      r.cuda(cudaMemcpy2DAsync(wb + col, W, pb + off, wk, wk, r.d.rows,
                               cudaMemcpyDeviceToDevice, r.stream));
    else
      r.cuda(cudaMemcpy2DAsync(pb + off, wk, wb + col, W, wk, r.d.rows,
                               cudaMemcpyDeviceToDevice, r.stream));
    off += wk * r.d.rows;
    col += wk;
  }
}

template <class T> static void concat_fwd(op_run &r) {
  concat_copies(r, CC_X, CC_Y, true);
}
template <class T> static void concat_bwd(op_run &r) {
  concat_copies(r, CC_DX, CC_DY, false);
}

// ---- elementwise add of n inputs ----------------------------------------

enum { EW_X, EW_Y, EW_DY, EW_DX };

static bool plan_elementwise(const gpp_op *op, op_run &r) {
  r.d.n = op->n_inputs > 0 ? op->n_inputs : 1;
  r.d.width = op->shape.width;
  if (r.d.width < 1) return false;
  int64_t n = r.d.rows * r.d.width;
  r.add(n * r.d.n, INIT_RANDOM);
  r.add(n, INIT_ZERO);
  r.add(n, INIT_RANDOM);
  r.add(n * r.d.n, INIT_ZERO);
  return true;
}

template <class T> static void elementwise_fwd(op_run &r) {
  size_t n = r.count[EW_Y];
  LAUNCH_FLAT(add_fwd<T>, n, r.p<T>(EW_X), r.d.n, n, r.p<T>(EW_Y), n);
}
template <class T> static void elementwise_bwd(op_run &r) {
  size_t n = r.count[EW_Y];
  LAUNCH_FLAT(add_bwd<T>, n, r.p<T>(EW_DY), r.d.n, n, r.p<T>(EW_DX), n);
}

// ---- pool: per sample, the mean over T tokens of each column -------------

enum { PL_X, PL_Y, PL_DY, PL_DX };

template <class T>
__global__ void pool_mean(const T *x, T *y, int64_t t, int64_t w, size_t n) {
  GRID_STRIDE(i, n) {  // i = sample * w + column
    const T *p = x + (int64_t)(i / w) * t * w + (int64_t)(i % w);
    float s = 0;
    for (int64_t k = 0; k < t; k++) s += f(p[k * w]);
    y[i] = to<T>(s / (float)t);
  }
}

template <class T>
__global__ void pool_spread(const T *dy, T *dx, int64_t t, int64_t w,
                            size_t n) {
  GRID_STRIDE(i, n) {  // i = (sample * t + token) * w + column
    size_t per = (size_t)(t * w);
    dx[i] = to<T>(f(dy[(i / per) * w + i % w]) / (float)t);
  }
}

static bool plan_pool(const gpp_op *op, op_run &r) {
  r.d.t = op->shape.in_tokens;
  r.d.width = op->shape.width;
  if (r.d.t < 1 || r.d.width < 1) return false;
  int64_t in = r.b * r.d.t * r.d.width, out = r.b * r.d.width;
  r.add(in, INIT_RANDOM);
  r.add(out, INIT_ZERO);
  r.add(out, INIT_RANDOM);
  r.add(in, INIT_ZERO);
  return true;
}

template <class T> static void pool_fwd(op_run &r) {
  size_t n = r.count[PL_Y];
  LAUNCH_FLAT(pool_mean<T>, n, r.p<T>(PL_X), r.p<T>(PL_Y), r.d.t, r.d.width,
              n);
}
template <class T> static void pool_bwd(op_run &r) {
  size_t n = r.count[PL_DX];
  LAUNCH_FLAT(pool_spread<T>, n, r.p<T>(PL_DY), r.p<T>(PL_DX), r.d.t,
              r.d.width, n);
}

// ---- interaction: per sample, F features of width d ----------------------

enum { IA_X, IA_Z, IA_OUT, IA_DOUT, IA_DZ, IA_DX };

static bool plan_interaction(const gpp_op *op, op_run &r) {
  int64_t F = op->shape.heads >= 2 ? op->shape.heads : op->n_inputs;
  int64_t d = op->shape.in_width;
  if (F < 2 || d < 1) return false;
  r.d.n = F;
  r.d.in = d;
  r.d.batch = r.b;
  int64_t P = F * (F - 1) / 2;
  r.add(r.b * F * d, INIT_RANDOM);
  r.add(r.b * F * F, INIT_ZERO);
  r.add(r.b * (d + P), INIT_ZERO);
  r.add(r.b * (d + P), INIT_RANDOM);
  r.add(r.b * F * F, INIT_ZERO);
  r.add(r.b * F * d, INIT_ZERO);
  return true;
}

template <class T> static void interaction_fwd(op_run &r) {
  int64_t F = r.d.n, d = r.d.in;
  size_t nf = (size_t)(r.d.batch * d);
  gemm<T>(r, F, F, d, {r.buf[IA_X], d, F * d, false},
          {r.buf[IA_X], d, F * d, true}, r.buf[IA_Z], F, F * F, r.d.batch);
  LAUNCH_FLAT(first_feature<T>, nf, r.p<T>(IA_X), r.p<T>(IA_OUT), F, d,
              false, nf);
  LAUNCH_FLAT(tri_extract<T>, r.count[IA_Z], r.p<T>(IA_Z), r.p<T>(IA_OUT),
              F, d, r.count[IA_Z]);
}

// dX = (dZ + dZ^T) X with dZ the scattered lower triangle, plus the first
// feature's pass-through gradient.
template <class T> static void interaction_bwd(op_run &r) {
  int64_t F = r.d.n, d = r.d.in;
  size_t nf = (size_t)(r.d.batch * d);
  LAUNCH_FLAT(tri_scatter<T>, r.count[IA_DZ], r.p<T>(IA_DOUT),
              r.p<T>(IA_DZ), F, d, r.count[IA_DZ]);
  gemm<T>(r, F, d, F, {r.buf[IA_DZ], F, F * F, false},
          {r.buf[IA_X], d, F * d, false}, r.buf[IA_DX], d, F * d, r.d.batch);
  gemm<T>(r, F, d, F, {r.buf[IA_DZ], F, F * F, true},
          {r.buf[IA_X], d, F * d, false}, r.buf[IA_DX], d, F * d, r.d.batch,
          1, 1);
  LAUNCH_FLAT(first_feature<T>, nf, r.p<T>(IA_DOUT), r.p<T>(IA_DX), F, d,
              true, nf);
}

// ---- the optimizer step (not an op: validate/'s executor runs it) ---------

enum { OPT_W, OPT_G, OPT_M, OPT_V };

// Adam when m is non-null (SGD otherwise); with a master copy the fp32
// master weights are updated and cast back to the weights.
template <class T>
__global__ void optimizer_step(T *w, const T *g, float *m, float *v,
                               float *master, size_t n) {
  const float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  GRID_STRIDE(i, n) {
    float gi = f(g[i]), step = lr * gi;
    if (m) {
      float mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      step = lr * mi / (sqrtf(vi) + eps);
    }
    float wi = (master ? master[i] : f(w[i])) - step;
    if (master) master[i] = wi;
    w[i] = to<T>(wi);
  }
}

bool plan_optimizer(int64_t n, int dt, bool adam, bool master, op_run &r) {
  if (n < 1 || (dt != 2 && dt != 4)) return false;
  r = op_run();
  r.kind = OPTIMIZER_KIND;
  r.dt = dt;
  r.d.n = n;
  r.d.bias = master;
  r.add((size_t)n, INIT_RANDOM);
  r.add((size_t)n, INIT_RANDOM, 0, 0, 1e-3f);
  if (adam) {
    r.add((size_t)n, INIT_ZERO, 4);
    r.add((size_t)n, INIT_ZERO, 4);
  }
  if (master) r.add((size_t)n, INIT_RANDOM, 4);
  return true;
}

template <class T> static void optimizer_run(op_run &r) {
  bool adam = r.nbuf - (r.d.bias ? 1 : 0) > 2;
  float *master = r.d.bias ? r.p<float>(r.nbuf - 1) : nullptr;
  size_t n = (size_t)r.d.n;
  LAUNCH_FLAT(optimizer_step<T>, n, r.p<T>(OPT_W), r.p<T>(OPT_G),
              adam ? r.p<float>(OPT_M) : nullptr,
              adam ? r.p<float>(OPT_V) : nullptr, master, n);
}

void run_optimizer(op_run &r) {
  if (r.dt == 2)
    optimizer_run<bf16>(r);
  else
    optimizer_run<float>(r);
  r.cuda(cudaGetLastError());
}

// ---- errors ---------------------------------------------------------------

int raise_cuda(gpp_errctx *err, cudaError_t e, const char *what) {
  cudaGetLastError();  // clears a sticky-free error such as out of memory
  return GPP_ERR(err, e == cudaErrorMemoryAllocation ? GPP_EOOM
                                                     : GPP_EINTERNAL,
                 "CUDA: %s: %s", what, cudaGetErrorString(e));
}

int raise_run(const op_run &r, const char *what, gpp_errctx *err) {
  if (r.berr != CUBLAS_STATUS_SUCCESS)
    GPP_RAISE(err, GPP_EINTERNAL, "%s: cuBLAS: %s", what,
              cublasGetStatusString(r.berr));
  int rc = raise_cuda(err, r.cerr, "op");
  gpp_error_prefix(err, "%s", what);
  return rc;
}

// ---- the table ------------------------------------------------------------

#define IMPL(k, plan, fw, bw)                                                 \
  { GPP_OP_##k, plan, {fw<float>, fw<bf16>}, {bw<float>, bw<bf16>} }

static const kind_impl impls[] = {
    IMPL(MATMUL, plan_matmul, matmul_fwd, matmul_bwd),
    IMPL(ATTENTION, plan_attention, attention_fwd, attention_bwd),
    IMPL(LAYERNORM, plan_layernorm, layernorm_fwd_run, layernorm_bwd_run),
    IMPL(SOFTMAX, plan_rowwise, softmax_fwd_run, softmax_bwd_run),
    IMPL(GELU, plan_rowwise, gelu_fwd_run, gelu_bwd_run),
    IMPL(RELU, plan_rowwise, relu_fwd_run, relu_bwd_run),
    IMPL(EMBEDDING, plan_embedding, embedding_fwd, embedding_bwd),
    IMPL(CONCAT, plan_concat, concat_fwd, concat_bwd),
    IMPL(INTERACTION, plan_interaction, interaction_fwd, interaction_bwd),
    IMPL(ELEMENTWISE, plan_elementwise, elementwise_fwd, elementwise_bwd),
    IMPL(LOSS, plan_loss, loss_fwd, loss_bwd),
    IMPL(POOL, plan_pool, pool_fwd, pool_bwd),
};

const kind_impl *find_impl(int kind) {
  for (const kind_impl &k : impls)
    if (k.kind == kind) return &k;
  return nullptr;
}

bool plan_op(const gpp_op *op, int64_t b, op_run &r) {
  const kind_impl *k = find_impl(op->kind);
  if (k == nullptr || (op->dtype_bytes != 2 && op->dtype_bytes != 4) ||
      b < 1)
    return false;
  r = op_run();
  r.kind = op->kind;
  r.dt = op->dtype_bytes;
  r.b = b;
  r.d.rows = b * (op->shape.tokens > 0 ? op->shape.tokens : 1);
  return k->plan(op, r);
}

void alloc_run(op_run &r, unsigned seed) {
  for (int i = 0; i < r.nbuf && r.ok(); i++) {
    r.cuda(cudaMalloc(&r.buf[i], r.bytes(i) ? r.bytes(i) : 1));
    if (!r.ok()) break;
    size_t n = r.count[i];
    if (r.init[i] == INIT_ZERO)
      r.cuda(cudaMemsetAsync(r.buf[i], 0, r.bytes(i), r.stream));
    else if (r.init[i] == INIT_INDEX)
      LAUNCH_FLAT(fill_index, n, r.p<int>(i), n, seed + i, r.mod[i]);
    else if (r.esize[i] == 2)
      LAUNCH_FLAT(fill_random<bf16>, n, r.p<bf16>(i), n, seed + i,
                  r.scale[i]);
    else
      LAUNCH_FLAT(fill_random<float>, n, r.p<float>(i), n, seed + i,
                  r.scale[i]);
  }
  r.cuda(cudaGetLastError());
  r.cuda(cudaStreamSynchronize(r.stream));
}

void free_run(op_run &r) {
  for (int i = 0; i < r.nbuf; i++) {
    if (r.buf[i]) cudaFree(r.buf[i]);
    r.buf[i] = nullptr;
  }
}

void run_fwd(op_run &r) {
  find_impl(r.kind)->fwd[r.dt == 2](r);
  r.cuda(cudaGetLastError());
}

void run_bwd(op_run &r) {
  find_impl(r.kind)->bwd[r.dt == 2](r);
  r.cuda(cudaGetLastError());
}

}  // namespace gpp_prof

extern "C" bool gpp__prof_supports(const gpp_op *op) {
  gpp_prof::op_run r;
  return gpp_prof::plan_op(op, 1, r);
}

extern "C" double gpp__prof_op_bytes(const gpp_op *op, int64_t b) {
  gpp_prof::op_run r;
  if (!gpp_prof::plan_op(op, b, r)) return 0;
  double s = 0;
  for (int i = 0; i < r.nbuf; i++) s += (double)r.bytes(i);
  return s;
}
