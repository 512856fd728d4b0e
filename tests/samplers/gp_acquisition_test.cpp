#include "quarry/samplers/gp_acquisition.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace quarry::samplers {
namespace {

using space::Param;

TEST(GpAcquisition, TheDiscretePassTriesEveryValueOfAShortLogScaledInt) {
  // Int(1..8, log): the centres of the column's 8 equal slices decode to 1, 2, 4, 5 and 7 only,
  // so a pass over slice centres never tries 3, 6 or 8; the pass writes each value's encoding.
  const Encoder encoder(Space({Param::Int("n", 1, 8, {.log = true})}));
  std::set<std::int64_t> centres;
  for (int k = 0; k < 8; ++k)
    centres.insert(std::get<std::int64_t>(encoder.decode(std::vector{(k + 0.5) / 8}).at("n")));
  ASSERT_EQ(centres, (std::set<std::int64_t>{1, 2, 4, 5, 7}));
  // Losses -n for n = 1..7: expected improvement is largest at 8, next to the best value seen.
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (std::int64_t n = 1; n <= 7; ++n)
    x.push_back(encoder.encode({{"n", Value{n}}})), y.push_back(-static_cast<double>(n));
  const GaussianProcess gp(x, y, {.length_scales = {0.5}, .signal_variance = 1.0});
  const GpAcquisition acq(gp, /*ei=*/true, -7.0, 4.0);
  Rng rng(3);  // the 16 uniform candidates decode to 1-4 only
  const std::vector<double> best =
      maximise_acquisition(encoder, acq, {}, {.candidates = 16, .local_searches = 1}, rng);
  EXPECT_EQ(encoder.decode(best).at("n"), Value{std::int64_t{8}});
}

}  // namespace
}  // namespace quarry::samplers
