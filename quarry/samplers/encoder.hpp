// Encoder: a search space's assignments <-> points of the unit cube, the one encoding the
// model-based samplers fit their models on (GpSampler, SurrogateSampler; the Parzen estimators of
// TPE and BOHB model one Param::to_unit coordinate per parameter instead, see parzen.hpp).
//
//   const Encoder encoder(space);
//   std::vector<double> x = encoder.encode(trial.params);  // encoder.dims() numbers in [0, 1]
//   Params p = encoder.decode(x);                           // a legal assignment of the space
//
// One block of columns per parameter, in space order; values go through Param::to_unit and come
// back through Param::from_unit, so log scales are linear in the cube and a linear Int, a stepped
// Float or a choice sits at the centre of its value's slice:
//   - Float without a step:                               one Continuous column;
//   - Int, stepped Float, ordered Choice, Boolean and an
//     unordered Choice of two values:                      one Ordinal column;
//   - an unordered Choice of k > 2 values:                 k OneHot columns (Garrido-Merchán &
//     Hernández-Lobato 2020, "Dealing with categorical and integer-valued variables in Bayesian
//     optimization with Gaussian processes": no order is implied between the values);
//   - Fixed parameters and parameters of one value:       no column (kind None).
// (Two one-hot columns for two values would say the same thing twice and cost the GP one more
// length scale to fit.)
// A parameter that is inactive (its conditions do not hold in the assignment), missing or holds an
// illegal value takes the fixed inactive encoding: 0.5 for a column, all zeros for a one-hot block
// (no value implied).
//
// decode(x) assigns the parameters in space order, each only when active: a column through
// Param::from_unit (integers and steps rounded, log scales undone), a one-hot block as the value
// of its largest column (the first on ties), a parameter without column its only value. So
// project(x) = encode(decode(x)) is the legal point x stands for, as a model should see it:
// rounded, one-hot, inactive columns fixed.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "quarry/space/space.hpp"

namespace quarry::samplers {

class Encoder {
 public:
  /// The encoding of an inactive (or missing) parameter's column.
  static constexpr double kInactive = 0.5;

  enum class Kind { None, Continuous, Ordinal, OneHot };

  /// One parameter's columns x[offset, offset + width).
  struct Block {
    Kind kind = Kind::None;
    std::size_t offset = 0, width = 0;
    std::size_t levels = 0;  ///< the parameter's number of values (0: a Float without a step)
  };

  explicit Encoder(const Space& space);

  /// Columns of a point.
  std::size_t dims() const { return dims_; }
  /// The space's parameters and their blocks, index for index.
  const std::vector<space::Param>& params() const { return params_; }
  const std::vector<Block>& blocks() const { return blocks_; }

  std::vector<double> encode(const Params& values) const;
  /// Writes the encoding of `value`, a legal value of params()[i], into block i of x (dims()
  /// numbers); the other columns are left as they are. Nothing for a block without columns.
  void set(std::span<double> x, std::size_t i, const Value& value) const;
  /// The legal assignment `x` stands for (out-of-range numbers are clamped); InvalidArgument
  /// when x does not have dims() numbers.
  Params decode(std::span<const double> x) const;
  /// encode(decode(x)).
  std::vector<double> project(std::span<const double> x) const { return encode(decode(x)); }

 private:
  std::vector<space::Param> params_;
  std::vector<Block> blocks_;
  std::size_t dims_ = 0;
};

}  // namespace quarry::samplers
