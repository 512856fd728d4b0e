// quarry/nn/spec.cpp (torch-free, in the core library): names and layer descriptions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "quarry/core/error.hpp"
#include "quarry/nn/spec.hpp"

namespace quarry::nn {
namespace {

using ::testing::HasSubstr;

std::string error_of(void (*f)()) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "no error";
}

TEST(SpecNames, EveryActivationReadsBackFromItsName) {
  for (Activation a : {Activation::None, Activation::Relu, Activation::Tanh, Activation::Sigmoid,
                       Activation::Gelu})
    EXPECT_EQ(activation_from_string(to_string(a)), a) << to_string(a);
  EXPECT_EQ(to_string(Activation::Relu), "relu");
  EXPECT_EQ(activation_from_string("linear"), Activation::None);  // Keras' name for none
}

TEST(SpecNames, EveryOptimizerReadsBackFromItsNameInAnyCase) {
  for (OptimizerKind k :
       {OptimizerKind::Sgd, OptimizerKind::Adam, OptimizerKind::AdamW, OptimizerKind::RmsProp})
    EXPECT_EQ(optimizer_from_string(to_string(k)), k) << to_string(k);
  EXPECT_EQ(to_string(OptimizerKind::RmsProp), "rmsprop");
  EXPECT_EQ(optimizer_from_string("Adam"), OptimizerKind::Adam);  // Keras' class names
  EXPECT_EQ(optimizer_from_string("RMSprop"), OptimizerKind::RmsProp);
  EXPECT_EQ(optimizer_from_string("SGD"), OptimizerKind::Sgd);
  EXPECT_EQ(optimizer_from_string("AdamW"), OptimizerKind::AdamW);
}

TEST(SpecNames, EveryLossReadsBackFromItsName) {
  for (Loss l :
       {Loss::SparseCategoricalCrossentropy, Loss::BinaryCrossentropy, Loss::MeanSquaredError})
    EXPECT_EQ(loss_from_string(to_string(l)), l) << to_string(l);
  EXPECT_EQ(to_string(Loss::MeanSquaredError), "mean_squared_error");
  EXPECT_EQ(loss_from_string("mse"), Loss::MeanSquaredError);
  EXPECT_EQ(to_string(Loss::SparseCategoricalCrossentropy), "sparse_categorical_crossentropy");
}

TEST(SpecNames, UnknownNamesListTheAcceptedOnes) {
  EXPECT_EQ(error_of([] { activation_from_string("relu6"); }),
            "unknown activation 'relu6' (expected one of: none, relu, tanh, sigmoid, gelu, "
            "linear)");
  EXPECT_EQ(error_of([] { optimizer_from_string("adagrad"); }),
            "unknown optimizer 'adagrad' (expected one of: sgd, adam, adamw, rmsprop)");
  EXPECT_EQ(error_of([] { loss_from_string("hinge"); }),
            "unknown loss 'hinge' (expected one of: sparse_categorical_crossentropy, "
            "binary_crossentropy, mean_squared_error, mse)");
  EXPECT_THAT(error_of([] { activation_from_string("ReLU"); }), HasSubstr("'ReLU'"));
}

TEST(SpecNames, DescribeEveryLayer) {
  EXPECT_EQ(describe(Flatten{}), "flatten");
  EXPECT_EQ(describe(Dense{.units = 128, .activation = Activation::Relu}), "dense(128, relu)");
  EXPECT_EQ(describe(Dense{.units = 10}), "dense(10)");
  EXPECT_EQ(describe(Conv2d{.filters = 32, .activation = Activation::Relu}),
            "conv2d(32, 3x3, stride 1, same, relu)");
  EXPECT_EQ(describe(Conv2d{.filters = 8, .kernel_size = 5, .stride = 2, .same_padding = false}),
            "conv2d(8, 5x5, stride 2, valid)");
  EXPECT_EQ(describe(MaxPool2d{}), "maxpool(2)");
  EXPECT_EQ(describe(MaxPool2d{.pool_size = 3, .stride = 3}), "maxpool(3)");
  EXPECT_EQ(describe(MaxPool2d{.pool_size = 3, .stride = 1}), "maxpool(3, stride 1)");
  EXPECT_EQ(describe(AvgPool2d{.pool_size = 2}), "avgpool(2)");
  EXPECT_EQ(describe(Dropout{.rate = 0.2}), "dropout(0.2)");
  EXPECT_EQ(describe(BatchNorm{}), "batchnorm");
  EXPECT_EQ(describe(ActivationLayer{.activation = Activation::Tanh}), "activation(tanh)");
}

}  // namespace
}  // namespace quarry::nn
