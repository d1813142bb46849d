// One C++ translation unit of the C tests: the header compiles as C++
// (extern "C", -std=c++11 -pedantic -Wall -Wextra -Werror) and the API is
// usable with RAII and std::vector. Called from test_geomloss.c.
#include <geomloss.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace {

struct OptionsDeleter {
  void operator()(geomloss_options *o) const { geomloss_options_destroy(o); }
};
typedef std::unique_ptr<geomloss_options, OptionsDeleter> Options;

int fail(const char *what) {
  std::fprintf(stderr, "FAIL (C++): %s: %s\n", what, geomloss_last_error());
  return 1;
}

}  // namespace

extern "C" int cxx_smoke(void) {
  Options opts(geomloss_options_create());
  if (!opts) return fail("create");
  if (geomloss_options_set_string(opts.get(), GEOMLOSS_OPT_LOSS, "laplacian") != GEOMLOSS_OK)
    return fail("set_string");
  if (geomloss_options_set_double(opts.get(), GEOMLOSS_OPT_BLUR, 0.5) != GEOMLOSS_OK)
    return fail("set_double");
  const int64_t n = 16, m = 12, d = 2;
  std::vector<double> x(n * d), y(m * d), gx(n * d);
  for (int64_t i = 0; i < n * d; i++) x[i] = std::sin(0.7 * double(i));
  for (int64_t i = 0; i < m * d; i++) y[i] = std::cos(0.3 * double(i));
  double value = -1;
  if (geomloss_eval_f64(opts.get(), 1, n, m, d, x.data(), y.data(), nullptr, nullptr, nullptr,
                        nullptr, nullptr, &value, nullptr, nullptr, gx.data(), nullptr, nullptr,
                        nullptr) != GEOMLOSS_OK)
    return fail("eval_f64");
  if (!(value > 0) || !std::isfinite(value)) return fail("laplacian value not positive");
  std::vector<float> xf(x.begin(), x.end()), yf(y.begin(), y.end());
  float valuef = -1;
  if (geomloss_eval_f32(opts.get(), 1, n, m, d, xf.data(), yf.data(), nullptr, nullptr, nullptr,
                        nullptr, nullptr, &valuef, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr) != GEOMLOSS_OK)
    return fail("eval_f32");
  if (std::fabs(double(valuef) - value) > 1e-5 * std::fabs(value) + 1e-6)
    return fail("f32/f64 disagree");
  if (geomloss_eval_f64(opts.get(), 1, n, m, 0, x.data(), y.data(), nullptr, nullptr, nullptr,
                        nullptr, nullptr, &value, nullptr, nullptr, nullptr, nullptr, nullptr,
                        nullptr) != GEOMLOSS_ERR_SIZE ||
      std::strstr(geomloss_last_error(), "D must be >= 1") == nullptr)
    return fail("expected a size error");
  return 0;
}
