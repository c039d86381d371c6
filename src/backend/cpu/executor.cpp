// CPU executor (spec §1.2 phase order):
//   0. t = n·dt   1. W += Δ (from the previous step)
//   2. levels of the synapse=None graph: gather inputs, evaluate nodes/ensembles, compute
//      each outgoing connection's weighted output u, and advance its synapse y[n] from u[n]
//      into a second buffer (ConnState), so that everyone still reads y[n-1] in this step
//   3. learning rules compute Δ (reading error ports before the synapses advance)
//   4. probes record (filtered probes record their previous output, then advance).
#include "backend/cpu/executor.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <sstream>
#include <type_traits>

#include "ir/node_output.hpp"
#include "myelin/errors.hpp"
#include "neurons/lif_kernel.hpp"

namespace myelin::cpu {

using Rule = ir::LearnOp::Rule;

namespace {
std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// A level is evaluated by several threads only when it has at least this many neurons: a
// parallel region costs ~3 µs on a 2-core VM (measured: fork/join 3.1 µs, barrier 1.4 µs),
// about the time of 3,000 neuron updates, so below this the threads cost more than they save
// (chain 10×1000: 10 µs/step on one thread, 16 µs on two).
constexpr std::size_t kParallelMinNeurons = 32768;

// Encoders are kept in a tiled layout for the encode: for each block of 16 neurons, the 16
// values of dimension 0, then of dimension 1, ... (the tail block zero-padded). The encode
// then streams through memory once and keeps each block of J in one vector register (GCC
// vector extensions: g++ scalarises the plain-array form).
constexpr std::size_t kTile = kernels::kLifTile;
using v16f = float __attribute__((vector_size(64)));
inline v16f load16(const float* p) {
  v16f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// enc_t is dimension-major (enc_t[k*n + i]); tile has ceil(n/16)·16·d entries.
inline void tile_encoders(std::size_t n, std::size_t d, const float* enc_t,
                          std::vector<float>& tile) {
  const std::size_t blocks = (n + kTile - 1) / kTile;
  tile.assign(blocks * kTile * d, 0.f);
  for (std::size_t b = 0; b < blocks; ++b)
    for (std::size_t k = 0; k < d; ++k)
      for (std::size_t l = 0; l < kTile && b * kTile + l < n; ++l)
        tile[(b * d + k) * kTile + l] = enc_t[k * n + b * kTile + l];
}
// J = bias + Σ_k E[:, k]·x_k, or J += that with `accumulate` (J already holds the
// neuron-level inputs).
inline void encode(std::size_t n, std::size_t d, const float* __restrict bias,
                   const float* __restrict tile, const float* __restrict x, float* __restrict J,
                   bool accumulate) {
  const std::size_t full = n / kTile;
  for (std::size_t b = 0; b < full; ++b) {
    v16f acc = load16(bias + b * kTile);
    if (accumulate) acc += load16(J + b * kTile);
    const float* t = tile + b * d * kTile;
    for (std::size_t k = 0; k < d; ++k) acc += load16(t + k * kTile) * x[k];
    std::memcpy(J + b * kTile, &acc, sizeof acc);
  }
  for (std::size_t i = full * kTile; i < n; ++i) {
    const float* t = tile + full * d * kTile + (i - full * kTile);
    float a = bias[i] + (accumulate ? J[i] : 0.f);
    for (std::size_t k = 0; k < d; ++k) a += t[k * kTile] * x[k];
    J[i] = a;
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#define MYELIN_NO_AUTOVEC __attribute__((optimize("no-tree-vectorize")))
#else
#define MYELIN_NO_AUTOVEC
#endif

// u[0..D) = Σ_{r in rows} a[r]·W[r, :] with the accumulator held in registers. Rows of 4, 8
// or 16 floats are one vector each; otherwise scalar. Auto-vectorisation is off: across rows it
// would become gathers, which are slow on current x86 cores.
template <std::size_t D>
MYELIN_NO_AUTOVEC inline void accumulate_fixed(const float* __restrict w, const float* __restrict a,
                                               const std::int32_t* rows, std::size_t n_rows,
                                               float* __restrict u) {
  if constexpr (D % 4 == 0) {
    using V4 = float __attribute__((vector_size(16)));
    using V8 = float __attribute__((vector_size(32)));
    using VD = std::conditional_t<D == 4, V4, std::conditional_t<D == 8, V8, v16f>>;
    static_assert(sizeof(VD) == D * sizeof(float));
    VD acc{};
    for (std::size_t k = 0; k < n_rows; ++k) {
      const std::size_t r = rows ? static_cast<std::size_t>(rows[k]) : k;
      VD wr;
      std::memcpy(&wr, w + r * D, sizeof wr);
      acc += a[r] * wr;
    }
    for (std::size_t j = 0; j < D; ++j) u[j] = acc[j];
  } else {
    float acc[D] = {};
    for (std::size_t k = 0; k < n_rows; ++k) {
      const std::size_t r = rows ? static_cast<std::size_t>(rows[k]) : k;
      const float ar = a[r];
      const float* wr = w + r * D;
      for (std::size_t j = 0; j < D; ++j) acc[j] += ar * wr[j];
    }
    for (std::size_t j = 0; j < D; ++j) u[j] = acc[j];
  }
}

// out[idx[k]] = value for k < count. Kept scalar: the vectoriser would emit a scatter, which
// costs far more than these few (cached) stores on current x86 cores.
MYELIN_NO_AUTOVEC inline void scatter_fill(float* out, const std::int32_t* idx, std::size_t count,
                                           float value) {
  for (std::size_t k = 0; k < count; ++k) out[idx[k]] = value;
}

// W (rows × cols, row-major) += p ⊗ loc: PES's rank-1 update. A group of 16 rows is `cols`
// vectors of 16 floats; lane l of vector m is flat element q = 16m + l, i.e. row q / cols and
// column q % cols, so each vector is one permute of the group's 16 p values times a permute
// of loc. The index vectors depend only on cols and are made once (Rank1Plan).
using v16i = std::int32_t __attribute__((vector_size(64)));
struct Rank1Plan {
  std::size_t cols = 0;  // 0: no vector plan (cols > 16), scalar update
  v16i row_idx[kTile];
  v16i col_idx[kTile];
  explicit Rank1Plan(std::size_t c = 0) {
    if (c == 0 || c > kTile) return;
    cols = c;
    for (std::size_t m = 0; m < cols; ++m)
      for (std::size_t l = 0; l < kTile; ++l) {
        const std::size_t q = m * kTile + l;
        row_idx[m][l] = static_cast<std::int32_t>(q / cols);
        col_idx[m][l] = static_cast<std::int32_t>(q % cols);
      }
  }
};

inline void rank1_update(const Rank1Plan& plan, float* __restrict w, std::size_t rows,
                         std::size_t cols, const float* __restrict p, const float* __restrict loc) {
  std::size_t r = 0;
#if defined(__GNUC__) && !defined(__clang__)
  if (plan.cols == cols) {
    v16f lv{};
    for (std::size_t j = 0; j < cols; ++j) lv[j] = loc[j];
    v16f pat[kTile];
    for (std::size_t m = 0; m < cols; ++m) pat[m] = __builtin_shuffle(lv, plan.col_idx[m]);
    for (; r + kTile <= rows; r += kTile) {
      const v16f pv = load16(p + r);
      float* wg = w + r * cols;
      for (std::size_t m = 0; m < cols; ++m) {
        v16f wv = load16(wg + m * kTile);
        wv += __builtin_shuffle(pv, plan.row_idx[m]) * pat[m];
        std::memcpy(wg + m * kTile, &wv, sizeof wv);
      }
    }
  }
#else
  (void)plan;
#endif
  for (; r < rows; ++r)
    for (std::size_t j = 0; j < cols; ++j) w[r * cols + j] += p[r] * loc[j];
}

// Sparse/dense accumulate: u[j] = Σ_r a[r] W[r, j] over the rows given (or all rows).
inline void accumulate_rows(const ir::RowMatrixF& W, const float* a, const std::int32_t* rows,
                            std::size_t n_rows, float* u, std::size_t size_out) {
  const float* w = W.data();
  switch (size_out) {
    case 1:
      return accumulate_fixed<1>(w, a, rows, n_rows, u);
    case 2:
      return accumulate_fixed<2>(w, a, rows, n_rows, u);
    case 3:
      return accumulate_fixed<3>(w, a, rows, n_rows, u);
    case 4:
      return accumulate_fixed<4>(w, a, rows, n_rows, u);
    case 6:
      return accumulate_fixed<6>(w, a, rows, n_rows, u);
    case 8:
      return accumulate_fixed<8>(w, a, rows, n_rows, u);
    case 16:
      return accumulate_fixed<16>(w, a, rows, n_rows, u);
    default:
      break;
  }
  std::fill(u, u + size_out, 0.f);
  if (rows) {
    for (std::size_t k = 0; k < n_rows; ++k) {
      const std::size_t r = static_cast<std::size_t>(rows[k]);
      const float ar = a[r];
      const float* wr = w + r * size_out;
      for (std::size_t j = 0; j < size_out; ++j) u[j] += ar * wr[j];
    }
  } else {
    for (std::size_t r = 0; r < n_rows; ++r) {
      const float ar = a[r];
      if (ar == 0.f) continue;
      const float* wr = w + r * size_out;
      for (std::size_t j = 0; j < size_out; ++j) u[j] += ar * wr[j];
    }
  }
}
}  // namespace

struct Executor::EnsState {
  std::vector<float> x, nin, jin, J, out, noise_out;
  std::vector<std::vector<float>> state;
  std::vector<float*> state_ptr;
  std::vector<std::int32_t> fired;
  std::size_t n_fired = 0;
  std::vector<float> enc_t;     // mutable copy (Voja), dimension-major
  std::vector<float> enc_tile;  // the same, tiled for encode()
  bool has_nin = false, has_jin = false, encoders_learned = false;
  // Plain LIF: fused encode + step with sparse output updates (neurons/lif_kernel.hpp); its
  // per-neuron arrays (J, fired, state, bias_pad) are padded to whole 16-neuron tiles.
  bool fused = false;
  bool keep_J = false;  // J is probed (the fused path otherwise never stores it)
  kernels::LifConsts lif_c{};
  std::vector<float> bias_pad;
  Rng rng;
  std::unique_ptr<ProcessStep> noise;
  std::vector<double> noise_d;
  // Merged spike decoding: the fixed decoders of several decoded connections (and decoded
  // probes) from this ensemble side by side, one zero-padded row of `stride` floats per
  // neuron, so each spike costs one row load and one vector FMA for all of them.
  struct DecodeGroup {
    std::size_t stride = 0;  // 4, 8 or 16
    ir::RowMatrixF w;        // n × stride
    std::vector<float> acc;  // stride
  };
  std::vector<DecodeGroup> groups;
};

struct Executor::NodeState {
  std::vector<float> acc;  // input accumulator (no per-step allocation)
  std::vector<double> in, out_d;
  std::vector<float> out;
  std::unique_ptr<ProcessStep> proc;
};

struct Executor::ConnState {
  // y is double-buffered: in step n the consumers read ybuf[n & 1] (= y[n-1]) while the
  // synapse, advanced right after u[n] is computed by the thread that computed it, writes
  // ybuf[(n & 1) ^ 1]. No separate serial synapse phase, and no connection state that two
  // threads take turns writing (cache-line transfers between cores cost microseconds on some
  // machines).
  std::vector<float> u, ybuf[2], mid, xin;
  bool pre_spiking = false;       // pre is an ensemble of a spiking neuron type (sparse decode)
  const float* merged = nullptr;  // decoded by the pre's DecodeGroup: u = these values
  std::vector<double> xd;
  FilterBank filter;
  ir::RowMatrixF W;  // mutable (learning)
};

struct Executor::LearnState {
  std::vector<float> port;      // error / signal (gathered at phase 3)
  std::vector<float> pre_act;   // filtered pre activities ā
  std::vector<float> post_act;  // filtered post activities p
  std::vector<float> theta;
  std::vector<float> local;  // PES: scaled error vector applied at phase 1 (per column)
  std::vector<float> tmp;
  FilterBank pre_filter, post_filter, theta_filter;
  bool pending = false;          // a Δ is waiting for phase 1
  ir::RowMatrixF delta;          // BCM/Oja/RLS: dense Δ in W layout
  Eigen::MatrixXf P;             // RLS
  std::vector<float> enc_delta;  // Voja (n × d, dimension-major like enc_t)
  Rank1Plan plan;                // PES
};

struct Executor::ProbeState {
  ProbeData data;
  std::vector<float> value, y;  // current value; filter output
  FilterBank filter;
  std::size_t size = 0;
  double period = 1.0;  // sample_every / dt
};

Executor::Executor(const ir::Model& model, std::uint64_t seed, int threads)
    : m_(model), threads_(threads > 0 ? threads : omp_get_max_threads()), seed_(seed) {
  // Allocate all state once: stepping never allocates.
  for (std::size_t i = 0; i < m_.ensembles.size(); ++i) {
    const auto& e = m_.ensembles[i];
    auto s = std::make_unique<EnsState>();
    s->x.assign(e.d, 0.f);
    if (!e.direct) {
      s->fused = kernels::lif_fusable(*e.neuron_type, m_.dt);
      const std::size_t len = s->fused ? kernels::lif_padded(e.n) : e.n;
      s->J.assign(len, 0.f);
      s->out.assign(e.n, 0.f);
      s->fired.assign(len, 0);
      s->enc_t = e.enc_t;
      tile_encoders(e.n, e.d, s->enc_t.data(), s->enc_tile);
      for (std::size_t ci : m_.ens_in[i]) {
        if (m_.conns[ci].post_kind == ir::PostKind::NeuronsGain) s->has_nin = true;
        if (m_.conns[ci].post_kind == ir::PostKind::NeuronsRaw) s->has_jin = true;
      }
      if (s->fused) {
        s->lif_c =
            kernels::lif_consts(static_cast<const LIF&>(*e.neuron_type), static_cast<float>(m_.dt));
        for (const auto& p : m_.probes)
          if (p.source == ir::ProbeOp::Source::NeuronsInput && p.obj == i) s->keep_J = true;
        s->bias_pad.assign(len, 0.f);
        std::copy(e.bias.begin(), e.bias.end(), s->bias_pad.begin());
      }
      s->nin.assign(s->has_nin ? e.n : 0, 0.f);
      s->jin.assign(s->has_jin ? e.n : 0, 0.f);
      if (e.noise) {
        s->noise_out.assign(e.n, 0.f);
        s->noise_d.assign(e.n, 0.0);
      }
    } else {
      s->out.assign(e.d, 0.f);
    }
    ens_.push_back(std::move(s));
  }
  for (std::size_t i = 0; i < m_.nodes.size(); ++i) {
    const auto& n = m_.nodes[i];
    auto s = std::make_unique<NodeState>();
    s->in.assign(n.size_in, 0.0);
    s->acc.assign(n.size_in, 0.f);
    s->out_d.assign(n.size_out, 0.0);
    s->out.assign(n.size_out, 0.f);
    nodes_.push_back(std::move(s));
  }
  for (const auto& c : m_.conns) {
    auto s = std::make_unique<ConnState>();
    s->u.assign(c.size_out, 0.f);
    s->ybuf[0].assign(c.size_out, 0.f);
    s->ybuf[1].assign(c.size_out, 0.f);
    s->mid.assign(c.size_mid, 0.f);
    s->xin.assign(c.pre_idx.empty() ? c.size_in : c.pre_idx.size(), 0.f);
    s->xd.assign(s->xin.size(), 0.0);
    if (c.synapse) s->filter = FilterBank(*c.synapse, c.size_out);
    s->W = c.W;
    s->pre_spiking = c.pre.kind == ir::ObjRef::Kind::Ensemble &&
                     !m_.ensembles[c.pre.index].direct &&
                     m_.ensembles[c.pre.index].neuron_type->spiking();
    conns_.push_back(std::move(s));
  }
  build_decode_groups();
  for (std::size_t li = 0; li < m_.learning.size(); ++li) {
    const auto& lo = m_.learning[li];
    const auto& c = m_.conns[lo.conn];
    auto s = std::make_unique<LearnState>();
    s->port.assign(lo.port_size, 0.f);
    const std::size_t n_pre = lo.pre_idx.empty() ? m_.ensembles[lo.pre_ens].n : lo.pre_idx.size();
    if (lo.rule != Rule::Voja) {
      s->pre_act.assign(n_pre, 0.f);
      s->tmp.assign(n_pre, 0.f);
      if (lo.pre_synapse) s->pre_filter = FilterBank(*lo.pre_synapse, n_pre);
    }
    if (lo.rule == Rule::PES) {
      s->local.assign(c.size_out, 0.f);
      s->plan = Rank1Plan(std::size_t(c.W.cols()));
    } else if (lo.rule == Rule::RLS) {
      s->local.assign(c.size_out, 0.f);
      s->delta = ir::RowMatrixF::Zero(c.W.rows(), c.W.cols());
      s->P = Eigen::MatrixXf::Identity(Eigen::Index(n_pre), Eigen::Index(n_pre)) *
             float(lo.learning_rate * m_.dt / double(n_pre));
    } else if (lo.rule == Rule::BCM || lo.rule == Rule::Oja) {
      const std::size_t n_post = m_.ensembles[lo.post_ens].n;
      s->post_act.assign(n_post, 0.f);
      s->theta.assign(n_post, 0.f);
      if (lo.post_synapse) s->post_filter = FilterBank(*lo.post_synapse, n_post);
      if (lo.theta_synapse) s->theta_filter = FilterBank(*lo.theta_synapse, n_post);
      s->delta = ir::RowMatrixF::Zero(c.W.rows(), c.W.cols());
    } else if (lo.rule == Rule::Voja) {
      const auto& post = m_.ensembles[lo.post_ens];
      s->post_act.assign(post.n, 0.f);
      if (lo.post_synapse) s->post_filter = FilterBank(*lo.post_synapse, post.n);
      s->enc_delta.assign(post.n * post.d, 0.f);
      ens_[lo.post_ens]->encoders_learned = true;
    }
    learn_.push_back(std::move(s));
  }
  for (const auto& p : m_.probes) {
    auto s = std::make_unique<ProbeState>();
    using S = ir::ProbeOp::Source;
    std::size_t size = p.size;
    switch (p.source) {
      case S::NodeOutput:
        size = m_.nodes[p.obj].size_out;
        break;
      case S::EnsInput:
        size = m_.ensembles[p.obj].d;
        break;
      case S::NeuronsOutput:
      case S::NeuronsInput:
      case S::NeuronsState:
        size = m_.ensembles[p.obj].n;
        break;
      case S::ConnOutput:
      case S::ConnU:
        size = m_.conns[p.obj].size_out;
        break;
      case S::ConnInput:
        size = conns_[p.obj]->xin.size();
        break;
      case S::ConnWeights:
        size = std::size_t(m_.conns[p.obj].W.size());
        break;
      case S::LearnError:
        size = m_.learning[p.obj].port_size;
        break;
      case S::LearnActivities:
        size = learn_[p.obj]->pre_act.size();
        break;
      case S::LearnDelta:
        if (m_.learning[p.obj].rule == Rule::Voja) {
          const auto& e = m_.ensembles[m_.learning[p.obj].post_ens];
          size = e.n * e.d;  // ΔEs has the encoders' shape (n_post × d)
        } else {
          size = std::size_t(m_.conns[m_.learning[p.obj].conn].W.size());
        }
        break;
      case S::LearnEncoders: {
        const auto& e = m_.ensembles[m_.learning[p.obj].post_ens];
        size = e.n * e.d;
        break;
      }
    }
    s->value.assign(size, 0.f);
    if (!p.idx.empty()) size = p.idx.size();
    s->size = size;
    s->y.assign(size, 0.f);
    if (p.synapse) s->filter = FilterBank(*p.synapse, size);
    s->period = p.sample_every > 0 ? p.sample_every / m_.dt : 1.0;
    probes_.push_back(std::move(s));
  }
  for (const auto& level : m_.levels) {
    std::size_t w = 0;
    for (auto o : level)
      if (o.kind == ir::ObjRef::Kind::Ensemble) w += m_.ensembles[o.index].n;
    level_work_.push_back(w);
  }
  init_runtime(seed);
}

Executor::~Executor() = default;

void Executor::build_decode_groups() {
  for (std::size_t i = 0; i < ens_.size(); ++i) {
    const auto& e = m_.ensembles[i];
    if (e.direct || !e.neuron_type->spiking()) continue;
    // Fixed (not learned) decoded connections from this ensemble, packed greedily into groups
    // of at most 16 outputs; a group needs two members to be worth it.
    std::vector<std::vector<std::size_t>> packs;
    std::size_t width = 0;
    for (std::size_t ci : m_.ens_out[i]) {
      const auto& c = m_.conns[ci];
      if (c.mode != ir::ConnOp::Mode::Decoded || !c.learning.empty() || c.layer ||
          c.size_out == 0 || c.size_out > kTile || std::size_t(c.W.rows()) != e.n)
        continue;
      if (packs.empty() || width + c.size_out > kTile) {
        packs.emplace_back();
        width = 0;
      }
      packs.back().push_back(ci);
      width += c.size_out;
    }
    auto& es = *ens_[i];
    es.groups.reserve(packs.size());  // the members point into the groups' accumulators
    for (const auto& pack : packs) {
      if (pack.size() < 2) continue;
      std::size_t total = 0;
      for (std::size_t ci : pack) total += m_.conns[ci].size_out;
      auto& g = es.groups.emplace_back();
      g.stride = total <= 4 ? 4 : total <= 8 ? 8 : 16;
      g.w = ir::RowMatrixF::Zero(Eigen::Index(e.n), Eigen::Index(g.stride));
      g.acc.assign(g.stride, 0.f);
      std::size_t col = 0;
      for (std::size_t ci : pack) {
        const auto& c = m_.conns[ci];
        g.w.middleCols(Eigen::Index(col), Eigen::Index(c.size_out)) = c.W;
        conns_[ci]->merged = g.acc.data() + col;
        col += c.size_out;
      }
    }
  }
}

void Executor::init_runtime(std::uint64_t seed) {
  seed_ = seed;
  n_ = 0;
  for (std::size_t i = 0; i < ens_.size(); ++i) {
    const auto& e = m_.ensembles[i];
    auto& s = *ens_[i];
    std::fill(s.x.begin(), s.x.end(), 0.f);
    std::fill(s.out.begin(), s.out.end(), 0.f);
    s.n_fired = 0;
    s.rng = Rng(mix_seed(seed, e.stream));
    if (!e.direct) {
      s.state = e.init_state;
      if (s.fused)
        for (auto& v : s.state) v.resize(kernels::lif_padded(e.n), 0.f);
      s.state_ptr.clear();
      for (auto& v : s.state) s.state_ptr.push_back(v.data());
      s.enc_t = e.enc_t;
      tile_encoders(e.n, e.d, s.enc_t.data(), s.enc_tile);
      if (e.noise) {
        Rng r(e.noise->seed ? *e.noise->seed : mix_seed(seed, e.stream + 7));
        s.noise = e.noise->make_step(0, e.n, m_.dt, r);
      }
    }
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = m_.nodes[i];
    auto& s = *nodes_[i];
    std::fill(s.in.begin(), s.in.end(), 0.0);
    std::fill(s.out.begin(), s.out.end(), 0.f);
    if (n.kind == ir::NodeOp::Kind::Constant)
      for (std::size_t k = 0; k < n.size_out; ++k) s.out[k] = static_cast<float>(n.constant[k]);
    if (n.kind == ir::NodeOp::Kind::Process) {
      Rng r(n.process->seed ? *n.process->seed : mix_seed(seed, n.stream));
      try {
        s.proc = n.process->make_step(n.size_in, n.size_out, m_.dt, r);
      } catch (const Error& e) {
        throw BuildError(n.name + ": " + e.what());
      }
    }
  }
  for (std::size_t ci = 0; ci < conns_.size(); ++ci) {
    auto& s = *conns_[ci];
    std::fill(s.u.begin(), s.u.end(), 0.f);
    for (auto& y : s.ybuf) std::fill(y.begin(), y.end(), 0.f);
    s.filter.reset();
    s.W = m_.conns[ci].W;
  }
  for (auto& l : learn_) {
    std::fill(l->port.begin(), l->port.end(), 0.f);
    std::fill(l->pre_act.begin(), l->pre_act.end(), 0.f);
    std::fill(l->post_act.begin(), l->post_act.end(), 0.f);
    std::fill(l->theta.begin(), l->theta.end(), 0.f);
    std::fill(l->local.begin(), l->local.end(), 0.f);
    l->pre_filter.reset();
    l->post_filter.reset();
    l->theta_filter.reset();
    l->pending = false;
    if (l->delta.size()) l->delta.setZero();
    std::fill(l->enc_delta.begin(), l->enc_delta.end(), 0.f);
  }
  for (std::size_t li = 0; li < learn_.size(); ++li) {
    const auto& lo = m_.learning[li];
    if (lo.rule == Rule::RLS) {
      const auto n_pre = learn_[li]->P.rows();
      learn_[li]->P =
          Eigen::MatrixXf::Identity(n_pre, n_pre) * float(lo.learning_rate * m_.dt / double(n_pre));
    }
  }
  clear_probes();
  for (auto& p : probes_) {
    std::fill(p->y.begin(), p->y.end(), 0.f);
    p->filter.reset();
  }
}

void Executor::reset(std::uint64_t seed) {
  init_runtime(seed);
}

void Executor::clear_probes() {
  for (auto& p : probes_) p->data.clear();
}

void Executor::reserve_probes(std::size_t steps) {
  for (auto& p : probes_) {
    const std::size_t samples = static_cast<std::size_t>(double(steps) / p->period) + 2;
    p->data.reserve(p->data.size() + samples * p->size);
  }
}

const ProbeData& Executor::probe_data(std::size_t k) const {
  return probes_.at(k)->data;
}
std::size_t Executor::probe_size(std::size_t k) const {
  return probes_.at(k)->size;
}

const float* Executor::conn_output(std::size_t ci) const {
  return m_.conns[ci].synapse ? conns_[ci]->ybuf[(n_ & 1) ^ 1].data() : conns_[ci]->u.data();
}

const float* Executor::conn_input(std::size_t ci) const {
  return m_.conns[ci].synapse ? conns_[ci]->ybuf[n_ & 1].data() : conns_[ci]->u.data();
}

// Adds connection ci's delivered value into dst (size = post size) at post_idx.
static inline void scatter_add(const ir::ConnOp& c, const float* v, float* dst) {
  if (c.post_idx.empty()) {
    for (std::size_t j = 0; j < c.size_out; ++j) dst[j] += v[j];
  } else {
    for (std::size_t j = 0; j < c.size_out; ++j) dst[c.post_idx[j]] += v[j];
  }
}

void Executor::compute_conn(std::size_t ci) {
  compute_u(ci);
  // Phase 3's synapse update, done here (see ConnState): y[n] from u[n] into the write buffer.
  auto& s = *conns_[ci];
  if (m_.conns[ci].synapse) s.filter.step(s.u.data(), s.ybuf[(n_ & 1) ^ 1].data());
}

void Executor::compute_u(std::size_t ci) {
  const auto& c = m_.conns[ci];
  auto& s = *conns_[ci];
  const bool pre_node = c.pre.kind == ir::ObjRef::Kind::Node;
  if (s.merged != nullptr) {  // decoded by the pre ensemble's DecodeGroup this step
    std::copy(s.merged, s.merged + c.size_out, s.u.begin());
    ir::add_bias(c.bias, c.size_out, s.u.data());
    return;
  }
  if (c.mode == ir::ConnOp::Mode::Decoded) {
    const auto& es = *ens_[c.pre.index];
    if (s.pre_spiking) {
      accumulate_rows(s.W, es.out.data(), es.fired.data(), es.n_fired, s.u.data(), c.size_out);
    } else {
      accumulate_rows(s.W, es.out.data(), nullptr, es.out.size(), s.u.data(), c.size_out);
    }
    ir::add_bias(c.bias, c.size_out, s.u.data());
    return;
  }
  // Value / Neurons: gather the (sliced) pre output.
  const float* src = pre_node ? nodes_[c.pre.index]->out.data() : ens_[c.pre.index]->out.data();
  const std::size_t nin = s.xin.size();
  const float* x = src;
  if (!c.pre_idx.empty()) {
    for (std::size_t k = 0; k < nin; ++k) s.xin[k] = src[c.pre_idx[k]];
    x = s.xin.data();
  }
  const float* mid = x;
  if (c.function) {
    for (std::size_t k = 0; k < nin; ++k) s.xd[k] = x[k];
    std::vector<double> r = c.function(s.xd);
    if (r.size() != c.size_mid)
      throw SimulationError(c.name + ": function returned " + std::to_string(r.size()) +
                            " values, expected " + std::to_string(c.size_mid));
    for (std::size_t k = 0; k < r.size(); ++k) {
      if (!std::isfinite(r[k]))
        throw SimulationError(c.name + ": function returned a non-finite value (" + fmt(r[k]) +
                              ") at t = " + fmt(double(n_) * m_.dt));
      s.mid[k] = static_cast<float>(r[k]);
    }
    mid = s.mid.data();
  }
  if (c.layer) {
    // Convolution / pooling (deep-SNN layers): scatter form, visiting nonzero inputs only.
    std::fill(s.u.begin(), s.u.end(), 0.f);
    ir::layer_forward_add(*c.layer, mid, s.u.data());
  } else if (c.identity) {
    std::copy(mid, mid + c.size_out, s.u.begin());
  } else if (c.mode == ir::ConnOp::Mode::Neurons && c.pre_idx.empty() && s.pre_spiking) {
    const auto& es = *ens_[c.pre.index];
    accumulate_rows(s.W, es.out.data(), es.fired.data(), es.n_fired, s.u.data(), c.size_out);
  } else {
    accumulate_rows(s.W, mid, nullptr, c.size_mid, s.u.data(), c.size_out);
  }
  ir::add_bias(c.bias, c.size_out, s.u.data());
}

void Executor::eval_node(std::size_t i, double t) {
  const auto& n = m_.nodes[i];
  auto& s = *nodes_[i];
  if (n.size_in) {
    std::fill(s.acc.begin(), s.acc.end(), 0.f);
    for (std::size_t ci : m_.node_in[i]) scatter_add(m_.conns[ci], conn_input(ci), s.acc.data());
    for (std::size_t k = 0; k < n.size_in; ++k) s.in[k] = s.acc[k];
  }
  using K = ir::NodeOp::Kind;
  auto take = [&](const std::vector<double>& r) {
    ir::take_node_output(n.name, r, n.size_out, t, s.out.data());
  };
  switch (n.kind) {
    case K::Constant:
      break;
    case K::FnT:
      take(n.fn_t(t));
      break;
    case K::FnTX:
      take(n.fn_tx(t, s.in));
      break;
    case K::Process:
      s.proc->step(t, s.in, s.out_d);
      take(s.out_d);
      break;
    case K::Passthrough:
      for (std::size_t k = 0; k < n.size_out; ++k) s.out[k] = static_cast<float>(s.in[k]);
      break;
  }
  for (std::size_t ci : m_.node_out[i]) compute_conn(ci);
}

void Executor::eval_ensemble(std::size_t i, double t) {
  const auto& e = m_.ensembles[i];
  auto& s = *ens_[i];
  std::fill(s.x.begin(), s.x.end(), 0.f);
  if (s.has_nin) std::fill(s.nin.begin(), s.nin.end(), 0.f);
  if (s.has_jin) std::fill(s.jin.begin(), s.jin.end(), 0.f);
  for (std::size_t ci : m_.ens_in[i]) {
    const auto& c = m_.conns[ci];
    float* dst = c.post_kind == ir::PostKind::EnsX          ? s.x.data()
                 : c.post_kind == ir::PostKind::NeuronsGain ? s.nin.data()
                                                            : s.jin.data();
    scatter_add(c, conn_input(ci), dst);
  }
  if (e.direct) {
    std::copy(s.x.begin(), s.x.end(), s.out.begin());
  } else {
    // J = bias + Σ_k enc_t[k]·x_k (+ gain ⊙ nin) (+ jin) (+ noise)   (spec §3 step 4)
    const std::size_t n = e.n;
    float* J = s.J.data();
    const bool extra = s.has_nin || s.has_jin || s.noise;
    if (extra) {
      // The neuron-level inputs first (into J), the encoded part is added after.
      std::fill(s.J.begin(), s.J.begin() + std::ptrdiff_t(n), 0.f);
      if (s.has_nin) {
        const float* g = e.gain.data();
        const float* v = s.nin.data();
        for (std::size_t q = 0; q < n; ++q) J[q] += g[q] * v[q];
      }
      if (s.has_jin)
        for (std::size_t q = 0; q < n; ++q) J[q] += s.jin[q];
      if (s.noise) {
        s.noise->step(t, {}, s.noise_d);
        for (std::size_t q = 0; q < n; ++q) J[q] += static_cast<float>(s.noise_d[q]);
      }
    }
    if (s.fused) {
      // Sparse output: clear last step's spikes, step, mark this step's.
      float* out = s.out.data();
      scatter_fill(out, s.fired.data(), s.n_fired, 0.f);
      kernels::LifFusedArgs a;
      a.n = n;
      a.d = e.d;
      a.bias = s.bias_pad.data();
      a.enc_tile = s.enc_tile.data();
      a.x = s.x.data();
      a.extra = extra ? J : nullptr;
      a.J = s.keep_J ? J : nullptr;
      a.v = s.state_ptr[0];
      a.ref = s.state_ptr[1];
      a.fired = s.fired.data();
      s.n_fired = kernels::lif_fused_step(s.lif_c, a);
      scatter_fill(out, s.fired.data(), s.n_fired, s.lif_c.spike_out);
      // J[0] without storing J: the non-finite input check of the generic path.
      float j0 = n > 0 ? s.bias_pad[0] + (extra ? J[0] : 0.f) : 0.f;
      for (std::size_t k = 0; k < e.d && n > 0; ++k) j0 += s.enc_tile[k * kTile] * s.x[k];
      if (!std::isfinite(j0))
        throw SimulationError(e.name + ": input current became non-finite (" + fmt(j0) +
                              ") at t = " + fmt(t));
      decode_groups(s);
      for (std::size_t ci : m_.ens_out[i]) compute_conn(ci);
      return;
    }
    encode(n, e.d, e.bias.data(), s.enc_tile.data(), s.x.data(), J, extra);
    NeuronStepArgs a;
    a.dt = static_cast<float>(m_.dt);
    a.n = n;
    a.J = J;
    a.out = s.out.data();
    a.state = s.state_ptr.data();
    a.fired = s.fired.data();
    a.rng = &s.rng;
    s.n_fired = e.neuron_type->step(a);
    if (!std::isfinite(J[0]) && n > 0)
      throw SimulationError(e.name + ": input current became non-finite (" + fmt(J[0]) +
                            ") at t = " + fmt(t));
  }
  decode_groups(s);
  for (std::size_t ci : m_.ens_out[i]) compute_conn(ci);
}

void Executor::decode_groups(EnsState& s) {
  for (auto& g : s.groups) {
    accumulate_rows(g.w, s.out.data(), s.fired.data(), s.n_fired, g.acc.data(), g.stride);
  }
}

void Executor::apply_deltas() {
  for (std::size_t li = 0; li < learn_.size(); ++li) {
    auto& l = *learn_[li];
    if (!l.pending) continue;
    const auto& lo = m_.learning[li];
    if (lo.rule == Rule::Voja) {
      auto& es = *ens_[lo.post_ens];
      for (std::size_t k = 0; k < es.enc_t.size(); ++k) es.enc_t[k] += l.enc_delta[k];
      const auto& e = m_.ensembles[lo.post_ens];
      tile_encoders(e.n, e.d, es.enc_t.data(), es.enc_tile);
      continue;
    }
    auto& W = conns_[lo.conn]->W;
    if (lo.rule == Rule::PES) {
      // Rank-1: W[r, j] += ā_r · local_j (local already carries −κ·dt/N).
      rank1_update(l.plan, W.data(), std::size_t(W.rows()), std::size_t(W.cols()), l.pre_act.data(),
                   l.local.data());
    } else {
      W += l.delta;
    }
  }
}

void Executor::learn_phase() {
  for (std::size_t li = 0; li < learn_.size(); ++li) {
    const auto& lo = m_.learning[li];
    auto& l = *learn_[li];
    const auto& c = m_.conns[lo.conn];
    // Error / signal port: Σ over incoming connections of y[n−1] (synapse) or u[n] (None).
    std::fill(l.port.begin(), l.port.end(), 0.f);
    for (std::size_t ci : m_.learn_in[li]) scatter_add(m_.conns[ci], conn_input(ci), l.port.data());
    const double kappa = lo.learning_rate;
    const double dt = m_.dt;
    // Filtered pre activities (same step, spec §1.2).
    if (!l.pre_act.empty()) {
      const auto& pre = *ens_[lo.pre_ens];
      const float* a = pre.out.data();
      if (!lo.pre_idx.empty()) {
        for (std::size_t k = 0; k < lo.pre_idx.size(); ++k) l.tmp[k] = pre.out[lo.pre_idx[k]];
        a = l.tmp.data();
      }
      if (lo.pre_synapse)
        l.pre_filter.step(a, l.pre_act.data());
      else
        std::copy(a, a + l.pre_act.size(), l.pre_act.begin());
    }
    auto post_activities = [&]() {
      const auto& post = *ens_[lo.post_ens];
      if (lo.post_synapse)
        l.post_filter.step(post.out.data(), l.post_act.data());
      else
        std::copy(post.out.begin(), post.out.end(), l.post_act.begin());
    };
    if (lo.rule == Rule::PES) {
      // N_pre = the pre neurons this connection uses (the slice, as Nengo's SimPES).
      const double n_pre = double(l.pre_act.size());
      const float scale = static_cast<float>(-kappa * dt / n_pre);
      if (lo.error_to_neurons) {
        // ε = Es·e (one value per targeted post neuron), spec §8.1.
        const auto& E = lo.error_encoders;
        for (std::size_t j = 0; j < l.local.size(); ++j) {
          float v = 0.f;
          for (std::size_t k = 0; k < l.port.size(); ++k)
            v += E(Eigen::Index(j), Eigen::Index(k)) * l.port[k];
          l.local[j] = scale * v;
        }
      } else {
        for (std::size_t j = 0; j < l.local.size(); ++j) l.local[j] = scale * l.port[j];
      }
      l.pending = true;
    } else if (lo.rule == Rule::RLS) {
      Eigen::Map<const Eigen::VectorXf> r(l.pre_act.data(), Eigen::Index(l.pre_act.size()));
      Eigen::VectorXf gv = l.P * r;
      const float k = 1.f / (1.f + r.dot(gv));
      l.P.noalias() -= k * gv * gv.transpose();
      Eigen::Map<const Eigen::VectorXf> e(l.port.data(), Eigen::Index(l.port.size()));
      l.delta.noalias() = -k * gv * e.transpose();
      l.pending = true;
    } else if (lo.rule == Rule::BCM || lo.rule == Rule::Oja) {
      post_activities();
      const auto& post = *ens_[lo.post_ens];
      const std::size_t cols = std::size_t(l.delta.cols());
      // Column j of W is post neuron post_idx[j] (or j).
      auto col_neuron = [&](std::size_t j) {
        return c.post_idx.empty() ? j : static_cast<std::size_t>(c.post_idx[j]);
      };
      if (lo.rule == Rule::BCM) {
        if (lo.theta_synapse)
          l.theta_filter.step(post.out.data(), l.theta.data());
        else
          std::copy(post.out.begin(), post.out.end(), l.theta.begin());
        for (std::size_t r = 0; r < std::size_t(l.delta.rows()); ++r)
          for (std::size_t j = 0; j < cols; ++j) {
            const std::size_t q = col_neuron(j);
            const float p = l.post_act[q];
            l.delta(Eigen::Index(r), Eigen::Index(j)) =
                float(kappa * dt) * p * (p - l.theta[q]) * l.pre_act[r];
          }
      } else {
        const auto& W = conns_[lo.conn]->W;
        for (std::size_t r = 0; r < std::size_t(l.delta.rows()); ++r)
          for (std::size_t j = 0; j < cols; ++j) {
            const float p = l.post_act[col_neuron(j)];
            l.delta(Eigen::Index(r), Eigen::Index(j)) =
                float(kappa * dt) *
                (p * l.pre_act[r] - float(lo.beta) * p * p * W(Eigen::Index(r), Eigen::Index(j)));
          }
      }
      l.pending = true;
    } else if (lo.rule == Rule::Voja) {
      post_activities();
      const auto& e = m_.ensembles[lo.post_ens];
      const auto& ps = *ens_[lo.post_ens];
      const float sgl = 1.f + (l.port.empty() ? 0.f : l.port[0]);
      // ΔEs_j = κ·dt·s·(c_j·p_j·x − p_j·Es_j), c_j = α_j / r   (spec §8.5)
      for (std::size_t k = 0; k < e.d; ++k)
        for (std::size_t j = 0; j < e.n; ++j) {
          const float p = l.post_act[j];
          const float cj = e.gain[j] / float(e.radius);
          l.enc_delta[k * e.n + j] =
              float(kappa * dt) * sgl * (cj * p * ps.x[k] - p * ps.enc_t[k * e.n + j]);
        }
      l.pending = true;
    }
  }
}

void Executor::record_probes() {
  using S = ir::ProbeOp::Source;
  const double n = double(n_);
  for (std::size_t k = 0; k < probes_.size(); ++k) {
    const auto& p = m_.probes[k];
    auto& s = *probes_[k];
    const float* v = nullptr;
    switch (p.source) {
      case S::NodeOutput:
        v = nodes_[p.obj]->out.data();
        break;
      case S::EnsInput:
        v = ens_[p.obj]->x.data();
        break;
      case S::NeuronsOutput:
        v = ens_[p.obj]->out.data();
        break;
      case S::NeuronsInput:
        v = ens_[p.obj]->J.data();
        break;
      case S::NeuronsState:
        v = ens_[p.obj]->state[p.state_index].data();
        break;
      case S::ConnOutput:
        v = conn_output(p.obj);
        break;
      case S::ConnU:
        v = conns_[p.obj]->u.data();
        break;
      case S::ConnInput:
        v = conns_[p.obj]->xin.data();
        break;
      case S::ConnWeights: {
        // Nengo orientation (size_out × rows), row-major.
        const auto& W = conns_[p.obj]->W;
        for (Eigen::Index j = 0; j < W.cols(); ++j)
          for (Eigen::Index r = 0; r < W.rows(); ++r)
            s.value[std::size_t(j * W.rows() + r)] = W(r, j);
        v = s.value.data();
        break;
      }
      case S::LearnError:
        v = learn_[p.obj]->port.data();
        break;
      case S::LearnActivities:
        v = learn_[p.obj]->pre_act.data();
        break;
      case S::LearnDelta: {
        const auto& l = *learn_[p.obj];
        if (m_.learning[p.obj].rule == Rule::Voja) {
          const auto& e = m_.ensembles[m_.learning[p.obj].post_ens];
          for (std::size_t j = 0; j < e.n; ++j)
            for (std::size_t q = 0; q < e.d; ++q) s.value[j * e.d + q] = l.enc_delta[q * e.n + j];
          v = s.value.data();
          break;
        }
        const auto& W = conns_[m_.learning[p.obj].conn]->W;
        for (Eigen::Index j = 0; j < W.cols(); ++j)
          for (Eigen::Index r = 0; r < W.rows(); ++r) {
            float d = 0.f;
            if (m_.learning[p.obj].rule == Rule::PES)
              d = l.pre_act[std::size_t(r)] * l.local[std::size_t(j)];
            else if (l.delta.size())
              d = l.delta(r, j);
            s.value[std::size_t(j * W.rows() + r)] = d;
          }
        v = s.value.data();
        break;
      }
      case S::LearnEncoders: {
        const auto& e = m_.ensembles[m_.learning[p.obj].post_ens];
        const auto& enc = ens_[m_.learning[p.obj].post_ens]->enc_t;
        for (std::size_t j = 0; j < e.n; ++j)
          for (std::size_t q = 0; q < e.d; ++q) s.value[j * e.d + q] = enc[q * e.n + j];
        v = s.value.data();
        break;
      }
    }
    const float* sel = v;
    if (!p.idx.empty()) {
      // value buffer is at least as large as the selection
      for (std::size_t q = 0; q < p.idx.size(); ++q) s.value[q] = v[p.idx[q]];
      sel = s.value.data();
    }
    const bool sample = s.period == 1.0 || std::fmod(n, s.period) < 1.0;
    if (p.synapse) {
      // A filtered probe is a connection into a sink: it records y[n−1] (spec §1.5).
      if (sample) s.data.insert(s.data.end(), s.y.begin(), s.y.end());
      if (sel == s.y.data()) continue;
      s.filter.step(sel, s.y.data());
    } else if (sample) {
      s.data.insert(s.data.end(), sel, sel + s.size);
    }
  }
}

void Executor::step() {
  ++n_;
  const double t = double(n_) * m_.dt;
  apply_deltas();
  for (std::size_t L = 0; L < m_.levels.size(); ++L) {
    const auto& level = m_.levels[L];
    for (const auto& o : level)
      if (o.kind == ir::ObjRef::Kind::Node) eval_node(o.index, t);
    const bool par = threads_ > 1 && level_work_[L] >= kParallelMinNeurons;
    if (!par) {
      for (const auto& o : level)
        if (o.kind == ir::ObjRef::Kind::Ensemble) eval_ensemble(o.index, t);
    } else {
      std::exception_ptr err;
      std::mutex mu;
      const std::ptrdiff_t cnt = static_cast<std::ptrdiff_t>(level.size());
      // Static: each thread keeps the same objects (and their state in its cache) step
      // after step.
#pragma omp parallel for schedule(static) num_threads(threads_)
      for (std::ptrdiff_t q = 0; q < cnt; ++q) {
        const auto& o = level[std::size_t(q)];
        if (o.kind != ir::ObjRef::Kind::Ensemble) continue;
        try {
          eval_ensemble(o.index, t);
        } catch (...) {
          std::lock_guard<std::mutex> lk(mu);
          if (!err) err = std::current_exception();
        }
      }
      if (err) std::rethrow_exception(err);
    }
  }
  learn_phase();
  record_probes();
}

}  // namespace myelin::cpu
