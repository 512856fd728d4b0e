// Lower-fidelity views (nn/fidelity.hpp): budget fractions, narrower layers, lower resolutions.
#include "quarry/nn/fidelity.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/core/error.hpp"
#include "quarry/nn/training.hpp"

namespace quarry::nn {
namespace {

using ::testing::ElementsAre;

TEST(FidelityTest, BudgetFractionIsTheShareOfTheFullBudget) {
  EXPECT_DOUBLE_EQ(budget_fraction(1, 9), 1.0 / 9);
  EXPECT_DOUBLE_EQ(budget_fraction(9, 9), 1.0);
  EXPECT_DOUBLE_EQ(budget_fraction(27, 9), 1.0);  // never more than the full model
  EXPECT_DOUBLE_EQ(budget_fraction(0, 9), 1.0);   // 0: the full budget
}

TEST(FidelityTest, NamesRoundTrip) {
  for (Fidelity f :
       {Fidelity::Epochs, Fidelity::Rows, Fidelity::Resolution, Fidelity::Filters, Fidelity::Cells})
    EXPECT_EQ(fidelity_from_string(to_string(f)), f);
  EXPECT_THROW(fidelity_from_string("pixels"), InvalidArgument);
}

TEST(FidelityTest, ScaleWidthNarrowsEveryLayerButTheOutputs) {
  const std::vector<Layer> layers = {Conv2d{.filters = 32}, Flatten{}, Dense{100}, Dense{10}};
  const auto narrow = scale_width(layers, 1.0 / 3);
  EXPECT_EQ(std::get<Conv2d>(narrow[0]).filters, 11);  // ceil(32 / 3)
  EXPECT_EQ(std::get<Dense>(narrow[2]).units, 34);
  EXPECT_EQ(std::get<Dense>(narrow[3]).units, 10);
  EXPECT_EQ(std::get<Dense>(scale_width({Dense{3}, Dense{2}}, 0.01)[0]).units, 1);
}

TEST(FidelityTest, ScaledSideKeepsAtLeastEightPixels) {
  EXPECT_EQ(scaled_side(28, 1.0), 28);
  EXPECT_EQ(scaled_side(28, 0.5), 14);
  EXPECT_EQ(scaled_side(28, 1.0 / 9), 8);
  EXPECT_EQ(scaled_side(6, 0.5), 6);  // never larger than the image
}

TEST(FidelityTest, ResizeAveragesTheCoveredPixels) {
  data::Dataset d{.shape = {1, 4, 4}, .x = {}, .y = {0}, .num_classes = 2};
  for (int i = 0; i < 16; ++i) d.x.push_back(static_cast<float>(i));
  const auto half = resize_images(d, 2, 2);
  EXPECT_THAT(half.shape, ElementsAre(1, 2, 2));
  // Each output pixel is the mean of a 2x2 block: (0+1+4+5)/4 ...
  EXPECT_THAT(half.x, ElementsAre(2.5F, 4.5F, 10.5F, 12.5F));
  EXPECT_EQ(half.y, d.y);

  // 3x3 -> 2x2: the middle row and column are shared half and half.
  data::Dataset three{.shape = {1, 3, 3}, .x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, .y = {1}};
  const auto two = resize_images(three, 2, 2);
  const float top_left = (1 + 0.5F * 2 + 0.5F * 4 + 0.25F * 5) / 2.25F;
  EXPECT_NEAR(two.x[0], top_left, 1e-5);
  EXPECT_NEAR(two.x[0] + two.x[1] + two.x[2] + two.x[3], 4 * 5.0F, 1e-4);  // the mean is kept
  EXPECT_THROW(resize_images(data::Dataset{.shape = {4}}, 2, 2), InvalidArgument);
}

}  // namespace
}  // namespace quarry::nn
