// Demo 3 — "Differentiable LIF tuning curve", as in the chapter, plus the same comparison
// made with Myelin's own LIFRate and SoftLIFRate neuron types.
#include <cmath>

#include "demos.hpp"
#include "myelin/myelin.hpp"
#include "myelin/plot.hpp"

namespace myelin::examples {

nlohmann::json demo_tuning(const DemoOptions& o) {
  const double Rm = 1000;  // Membrane Resistance [kOhm]
  const double Cm = 5e-6;  // Capacitance [uF]

  const double t_ref = 10e-3;
  const double tau = Rm * Cm;
  const double v_th = 1;
  const double la = 0.05;

  auto rho = [](double x) { return std::max(x, 0.0); };
  auto rho2 = [la](double x) { return la * std::log1p(std::exp(x / la)); };

  auto a3 = [&](double i) { return 1 / (t_ref + tau * std::log(1 + (v_th / rho(i - v_th)))); };
  auto a4 = [&](double i) { return 1 / (t_ref + tau * std::log(1 + (v_th / rho2(i - v_th)))); };

  const int n = 10000;
  std::vector<double> I(n), A3(n), A4(n);
  for (int k = 0; k < n; ++k) {
    I[k] = 3.0 * k / (n - 1);  // np.linspace(0, 3, 10000)
    A3[k] = a3(I[k]);
    A4[k] = a4(I[k]);
  }

  // The same curves from the library's neuron types (tau_rc = tau, tau_ref = t_ref, v_th = 1).
  LIFRate lif(tau, t_ref);
  SoftLIFRate soft(la, tau, t_ref);
  std::vector<double> L(n), S(n);
  lif.rates(I, L);
  soft.rates(I, S);
  double max_diff_hard = 0, max_diff_soft = 0;
  for (int k = 0; k < n; ++k) {
    max_diff_hard = std::max(max_diff_hard, std::abs(L[k] - A3[k]));
    max_diff_soft = std::max(max_diff_soft, std::abs(S[k] - A4[k]));
  }

  nlohmann::json m;
  m["demo"] = "tuning";
  m["points"] = n;
  m["rate_at_I2_hard_hz"] = a3(2.0);
  m["rate_at_I2_soft_hz"] = a4(2.0);
  m["rate_at_threshold_soft_hz"] = a4(1.0);
  m["max_abs_diff_lifrate_vs_formula_hz"] = max_diff_hard;
  m["max_abs_diff_softlifrate_vs_formula_hz"] = max_diff_soft;

  if (o.write_files) {
    const std::string dir = prepare_dir(o.out_dir, "tuning");
    {
      Figure f(6.4, 4.8);
      auto& ax = f.axes();
      ax.plot(I, A3, {.color = "black", .label = "ρ = max(x, 0)", .linewidth = 3});
      ax.plot(I, A4, {.color = "red", .label = "ρ = λ log(1 + e^(x/λ))", .linewidth = 3});
      ax.set_ylim(0, 100);
      ax.set_xlim(0, 3);
      ax.legend();
      ax.set_ylabel("Firing rate (Hz)");
      ax.set_xlabel("Input current");
      f.save(dir + "/lif_vs_softlif.png");
    }
    {
      Figure f(6.4, 4.8);
      auto& ax = f.axes();
      ax.plot(I, L,
              {.color = "black", .label = "LIFRate(tau_rc=0.005, tau_ref=0.01)", .linewidth = 3});
      ax.plot(I, S, {.color = "red", .label = "SoftLIFRate(sigma=0.05)", .linewidth = 3});
      ax.set_ylim(0, 100);
      ax.set_xlim(0, 3);
      ax.legend();
      ax.set_ylabel("Firing rate (Hz)");
      ax.set_xlabel("Input current J");
      f.save(dir + "/myelin_lifrate_vs_softlifrate.png");
    }
    write_metrics(dir, m);
  }
  return m;
}

}  // namespace myelin::examples
