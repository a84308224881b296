// check.cu -- `gppsim-profile --check`: every op kind's forward and
// backward kernels on tiny shapes, in fp32 and bf16, against a plain CPU
// reference computed from the same (device-rounded) inputs, so a timing is
// only ever taken of kernels that compute the right thing.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels_profile/profiler/ops.cuh"

namespace {

using vec = std::vector<float>;
using gpp_prof::op_run;

struct host_run {
  vec v[gpp_prof::MAXBUF];                // every buffer, as floats
  std::vector<int> idx[gpp_prof::MAXBUF]; // index buffers
};

float from_bf16(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

void download(const op_run &r, host_run &h) {
  for (int i = 0; i < r.nbuf; i++) {
    std::vector<unsigned char> raw(r.bytes(i));
    cudaMemcpy(raw.data(), r.buf[i], raw.size(), cudaMemcpyDeviceToHost);
    size_t n = r.count[i];
    h.v[i].resize(n);
    if (r.init[i] == gpp_prof::INIT_INDEX) {
      h.idx[i].resize(n);
      memcpy(h.idx[i].data(), raw.data(), n * sizeof(int));
    } else if (r.esize[i] == 2) {
      for (size_t k = 0; k < n; k++) {
        uint16_t b;
        memcpy(&b, &raw[2 * k], 2);
        h.v[i][k] = from_bf16(b);
      }
    } else {
      memcpy(h.v[i].data(), raw.data(), n * sizeof(float));
    }
  }
}

// C[M,N] = op(A) op(B) (+ C when acc), row-major with the given strides.
void ref_gemm(const float *A, bool ta, const float *B, bool tb, float *C,
              int64_t M, int64_t N, int64_t K, bool acc = false) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = acc ? C[i * N + j] : 0;
      for (int64_t k = 0; k < K; k++)
        s += (double)(ta ? A[k * M + i] : A[i * K + k]) *
             (tb ? B[j * K + k] : B[k * N + j]);
      C[i * N + j] = (float)s;
    }
}

void ref_softmax_rows(const float *x, float *y, int64_t rows, int64_t w) {
  for (int64_t r = 0; r < rows; r++) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < w; j++) m = fmax(m, x[r * w + j]);
    for (int64_t j = 0; j < w; j++) s += exp(x[r * w + j] - m);
    for (int64_t j = 0; j < w; j++) y[r * w + j] = (float)(exp(x[r * w + j] - m) / s);
  }
}

void ref_softmax_bwd(const float *y, const float *dy, float *dx, int64_t rows,
                     int64_t w, float scale) {
  for (int64_t r = 0; r < rows; r++) {
    double s = 0;
    for (int64_t j = 0; j < w; j++) s += dy[r * w + j] * y[r * w + j];
    for (int64_t j = 0; j < w; j++)
      dx[r * w + j] = (float)(scale * y[r * w + j] * (dy[r * w + j] - s));
  }
}

// Expected values of the buffers a kernel writes: buffer index -> values.
struct expect {
  int buf;
  vec want;
};

std::vector<expect> ref_matmul(const op_run &r, host_run &h) {
  int64_t M = r.d.rows, K = r.d.in, N = r.d.width;
  vec y(M * N), dx(M * K), dw(K * N);
  ref_gemm(h.v[0].data(), false, h.v[1].data(), false, y.data(), M, N, K);
  ref_gemm(h.v[3].data(), false, h.v[1].data(), true, dx.data(), M, K, N);
  ref_gemm(h.v[0].data(), true, h.v[3].data(), false, dw.data(), K, N, M);
  return {{2, y}, {4, dx}, {5, dw}};
}

std::vector<expect> ref_attention(const op_run &r, host_run &h) {
  int64_t B = r.d.batch, L = r.d.t, D = r.d.hd;
  float sc = 1.0f / sqrtf((float)D);
  vec O(B * L * D), dQ(O.size()), dK(O.size()), dV(O.size());
  vec S(L * L), P(L * L), dP(L * L), dS(L * L);
  for (int64_t b = 0; b < B; b++) {
    const float *q = &h.v[0][b * L * D], *k = &h.v[1][b * L * D],
                *v = &h.v[2][b * L * D], *dO = &h.v[6][b * L * D];
    ref_gemm(q, false, k, true, S.data(), L, L, D);
    for (float &s : S) s *= sc;
    ref_softmax_rows(S.data(), P.data(), L, L);
    ref_gemm(P.data(), false, v, false, &O[b * L * D], L, D, L);
    ref_gemm(dO, false, v, true, dP.data(), L, L, D);
    ref_gemm(P.data(), true, dO, false, &dV[b * L * D], L, D, L);
    ref_softmax_bwd(P.data(), dP.data(), dS.data(), L, L, sc);
    ref_gemm(dS.data(), false, k, false, &dQ[b * L * D], L, D, L);
    ref_gemm(dS.data(), true, q, false, &dK[b * L * D], L, D, L);
  }
  return {{3, O}, {7, dQ}, {8, dK}, {9, dV}};
}

std::vector<expect> ref_layernorm(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width;
  const vec &x = h.v[0], &dy = h.v[2], &g = h.v[4], &be = h.v[5];
  vec y(R * W), dx(R * W), dg(W), db(W);
  for (int64_t i = 0; i < R; i++) {
    double mu = 0, var = 0, a = 0, c = 0;
    for (int64_t j = 0; j < W; j++) mu += x[i * W + j];
    mu /= W;
    for (int64_t j = 0; j < W; j++) var += pow(x[i * W + j] - mu, 2);
    double rs = 1 / sqrt(var / W + 1e-5);
    for (int64_t j = 0; j < W; j++) {
      double xh = (x[i * W + j] - mu) * rs;
      y[i * W + j] = (float)(xh * g[j] + be[j]);
      a += g[j] * dy[i * W + j];
      c += g[j] * dy[i * W + j] * xh;
      dg[j] += (float)(dy[i * W + j] * xh);
      db[j] += dy[i * W + j];
    }
    for (int64_t j = 0; j < W; j++) {
      double xh = (x[i * W + j] - mu) * rs;
      dx[i * W + j] = (float)(rs * (g[j] * dy[i * W + j] - a / W - xh * c / W));
    }
  }
  return {{1, y}, {3, dx}, {8, dg}, {9, db}};
}

std::vector<expect> ref_softmax(const op_run &r, host_run &h) {
  vec y(h.v[0].size()), dx(y.size());
  ref_softmax_rows(h.v[0].data(), y.data(), r.d.rows, r.d.width);
  ref_softmax_bwd(y.data(), h.v[2].data(), dx.data(), r.d.rows, r.d.width, 1);
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_pointwise(host_run &h, bool is_gelu) {
  const vec &x = h.v[0], &dy = h.v[2];
  vec y(x.size()), dx(x.size());
  const double k = sqrt(2 / M_PI);
  for (size_t i = 0; i < x.size(); i++) {
    double v = x[i], u = k * (v + 0.044715 * v * v * v), t = tanh(u);
    y[i] = (float)(is_gelu ? 0.5 * v * (1 + t) : fmax(v, 0));
    double grad = is_gelu ? 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k *
                                                (1 + 3 * 0.044715 * v * v)
                          : (v > 0 ? 1 : 0);
    dx[i] = (float)(dy[i] * grad);
  }
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_embedding(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width, bag = r.d.bag;
  vec out(R * W), dt(r.d.table * W);
  for (int64_t o = 0; o < R; o++)
    for (int64_t k = 0; k < bag; k++) {
      int row = h.idx[1][o * bag + k];
      for (int64_t j = 0; j < W; j++) {
        out[o * W + j] += h.v[0][row * W + j];
        dt[row * W + j] += h.v[3][o * W + j];
      }
    }
  return {{2, out}, {4, dt}};
}

std::vector<expect> ref_concat(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width, n = r.d.n, base = W / n;
  vec y(R * W), dx(R * W);
  size_t off = 0;
  for (int64_t k = 0, col = 0; k < n; k++) {
    int64_t wk = k + 1 < n ? base : W - base * (n - 1);
    for (int64_t i = 0; i < R; i++)
      for (int64_t j = 0; j < wk; j++) {
        y[i * W + col + j] = h.v[0][off + i * wk + j];
        dx[off + i * wk + j] = h.v[2][i * W + col + j];
      }
    off += (size_t)(wk * R);
    col += wk;
  }
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_elementwise(const op_run &r, host_run &h) {
  size_t n = h.v[1].size();
  vec y(n), dx(n * r.d.n);
  for (int64_t k = 0; k < r.d.n; k++)
    for (size_t i = 0; i < n; i++) {
      y[i] += h.v[0][k * n + i];
      dx[k * n + i] = h.v[2][i];
    }
  return {{1, y}, {3, dx}};
}

std::vector<expect> ref_interaction(const op_run &r, host_run &h) {
  int64_t F = r.d.n, d = r.d.in, P = F * (F - 1) / 2, B = r.d.batch;
  vec out(B * P), dx(B * F * d), z(F * F), dz(F * F);
  for (int64_t b = 0; b < B; b++) {
    const float *x = &h.v[0][b * F * d];
    ref_gemm(x, false, x, true, z.data(), F, F, d);
    for (int64_t i = 0; i < F; i++)
      for (int64_t j = 0; j < F; j++) {
        float g = i > j ? h.v[3][b * P + i * (i - 1) / 2 + j] : 0;
        if (i > j) out[b * P + i * (i - 1) / 2 + j] = z[i * F + j];
        dz[i * F + j] = g;
      }
    ref_gemm(dz.data(), false, x, false, &dx[b * F * d], F, d, F);
    ref_gemm(dz.data(), true, x, false, &dx[b * F * d], F, d, F, true);
  }
  return {{2, out}, {5, dx}};
}

std::vector<expect> ref_loss(const op_run &r, host_run &h) {
  int64_t R = r.d.rows, W = r.d.width;
  vec p(R * W), dx(R * W), loss(1);
  ref_softmax_rows(h.v[0].data(), p.data(), R, W);
  for (int64_t i = 0; i < R; i++) {
    int lab = h.idx[1][i];
    loss[0] -= (float)(log(p[i * W + lab]) / R);
    for (int64_t j = 0; j < W; j++)
      dx[i * W + j] = (p[i * W + j] - (j == lab ? 1.0f : 0.0f)) / R;
  }
  return {{2, loss}, {3, dx}};
}

std::vector<expect> reference(const op_run &r, host_run &h) {
  switch (r.kind) {
  case GPP_OP_MATMUL: return ref_matmul(r, h);
  case GPP_OP_ATTENTION: return ref_attention(r, h);
  case GPP_OP_LAYERNORM: return ref_layernorm(r, h);
  case GPP_OP_SOFTMAX: return ref_softmax(r, h);
  case GPP_OP_GELU: return ref_pointwise(h, true);
  case GPP_OP_RELU: return ref_pointwise(h, false);
  case GPP_OP_EMBEDDING: return ref_embedding(r, h);
  case GPP_OP_CONCAT: return ref_concat(r, h);
  case GPP_OP_ELEMENTWISE: return ref_elementwise(r, h);
  case GPP_OP_INTERACTION: return ref_interaction(r, h);
  default: return ref_loss(r, h);
  }
}

// Number of mismatching buffers; prints the worst element of each.
int compare(const op_run &r, host_run &h, const char *label) {
  double tol = r.dt == 2 ? 4e-2 : 2e-4;
  int bad = 0;
  for (const expect &e : reference(r, h)) {
    const vec &got = h.v[e.buf];
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < got.size(); i++) {
      double d = fabs(got[i] - e.want[i]) / (1 + fabs(e.want[i]));
      if (!(d <= worst)) { worst = d; at = i; }
    }
    bool ok = worst <= tol;
    bad += !ok;
    printf("check %-24s buffer %d: %s (worst %.2e at %zu: got %g, want %g)\n",
           label, e.buf, ok ? "ok" : "MISMATCH", worst, at,
           got.empty() ? 0.0 : got[at], e.want.empty() ? 0.0 : e.want[at]);
  }
  return bad;
}

gpp_op tiny(gpp_op_kind kind, int64_t t, int64_t w, int64_t in, int64_t h,
            int64_t rows, int64_t bag, uint32_t n_inputs) {
  gpp_op op;
  memset(&op, 0, sizeof op);
  op.name = gpp_signature_kind_name(kind);
  op.kind = kind;
  op.shape = {t, w, in, h, rows, bag};
  op.n_inputs = n_inputs;
  return op;
}

int check_op(cublasHandle_t blas, cudaStream_t stream, gpp_op op, int dt,
             int64_t b) {
  op.dtype_bytes = dt;
  op_run r;
  char label[64];
  snprintf(label, sizeof label, "%s %s", op.name, dt == 2 ? "bf16" : "fp32");
  if (!gpp_prof::plan_op(&op, b, r)) {
    printf("check %-24s: NOT PLANNED\n", label);
    return 1;
  }
  r.blas = blas;
  r.stream = stream;
  gpp_prof::alloc_run(r, 77u);
  gpp_prof::run_fwd(r);
  gpp_prof::run_bwd(r);
  r.cuda(cudaStreamSynchronize(stream));
  int bad = 0;
  if (!r.ok()) {
    printf("check %-24s: GPU FAILURE (%s / cuBLAS %d)\n", label,
           cudaGetErrorString(r.cerr), (int)r.berr);
    bad = 1;
  } else {
    host_run h;
    download(r, h);
    bad = compare(r, h, label);
  }
  gpp_prof::free_run(r);
  return bad;
}

}  // namespace

extern "C" int gpp__prof_self_check(gpp_errctx *err) {
  const gpp_op ops[] = {
      tiny(GPP_OP_MATMUL, 3, 7, 5, 0, 0, 0, 1),
      tiny(GPP_OP_ATTENTION, 4, 6, 0, 2, 0, 0, 1),
      tiny(GPP_OP_LAYERNORM, 3, 37, 0, 0, 0, 0, 1),
      tiny(GPP_OP_SOFTMAX, 3, 300, 0, 0, 0, 0, 1),
      tiny(GPP_OP_GELU, 3, 50, 0, 0, 0, 0, 1),
      tiny(GPP_OP_RELU, 3, 50, 0, 0, 0, 0, 1),
      tiny(GPP_OP_EMBEDDING, 1, 9, 0, 0, 11, 3, 1),
      tiny(GPP_OP_CONCAT, 3, 10, 0, 0, 0, 0, 3),
      tiny(GPP_OP_ELEMENTWISE, 3, 9, 0, 0, 0, 0, 3),
      tiny(GPP_OP_INTERACTION, 1, 10, 5, 0, 0, 0, 4),
      tiny(GPP_OP_LOSS, 3, 10, 0, 0, 0, 0, 1),
  };
  cudaStream_t stream;
  cublasHandle_t blas;
  if (cudaStreamCreate(&stream) != cudaSuccess)
    GPP_RAISE(err, GPP_EINTERNAL, "CUDA stream creation failed");
  if (cublasCreate(&blas) != CUBLAS_STATUS_SUCCESS) {
    cudaStreamDestroy(stream);
    GPP_RAISE(err, GPP_EINTERNAL, "cuBLAS initialisation failed");
  }
  cublasSetStream(blas, stream);
  int bad = 0;
  for (const gpp_op &op : ops)
    for (int dt : {4, 2}) bad += check_op(blas, stream, op, dt, 3);
  cublasDestroy(blas);
  cudaStreamDestroy(stream);
  return bad;
}
