// Quarry's error types.
//
// One root (`quarry::Error`) with a few children for fatal conditions, and trial outcomes kept
// apart: `TrialFailed` and `TrialPruned` end one trial (recorded, the search goes on), everything
// else derived from `Error` stops the operation that raised it. `require` is the one way an
// options constructor checks a rule: "Hyperband: factor >= 2 must hold, got 1".
#pragma once

#include <concepts>
#include <stdexcept>
#include <string>
#include <string_view>

namespace quarry {

/// `text` with its line breaks and other control characters written as escapes (a line break as
/// \n, a tab as \t, ESC as \x1b); other bytes (UTF-8 included) are kept. An error quoting a
/// user's text stays one line.
std::string one_line(std::string_view text);

/// Root of every error Quarry raises on purpose. Its message is always one line (one_line): it may
/// quote anything a user wrote (a CSV column, a YAML scalar, stored JSON).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(one_line(what)) {}
  explicit Error(const char* what) : Error(std::string(what)) {}
};

/// A value or definition breaks a rule: "Int('units'): low <= high must hold, got low=512,
/// high=16".
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// The store cannot be read or written, or holds something it should not.
class StorageError : public Error {
 public:
  using Error::Error;
};

/// The store failed while in use, through no fault of the input: the disk is full, an I/O error,
/// the file was deleted or replaced under a running search, other writers held the lock too long.
/// The command line exits with code 4 (bad input is 2).
class StoreFailure : public StorageError {
 public:
  using StorageError::StorageError;
};

/// A study with this name already exists where a new one was asked for.
class DuplicateStudy : public StorageError {
 public:
  using StorageError::StorageError;
};

/// The command line or a study file is wrong; the CLI exits with code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// The objective cannot run at all (its program does not exist): every trial would fail the same
/// way, so the trial is recorded as failed and the search stops with this error (Keras Tuner's
/// FatalError).
class FatalTrialError : public Error {
 public:
  using Error::Error;
};

/// Ends one trial as failed; `what()` is the reason stored with the trial.
class TrialFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Ends one trial as pruned (the scheduler stopped it).
class TrialPruned : public std::runtime_error {
 public:
  TrialPruned() : std::runtime_error("trial pruned") {}
  using std::runtime_error::runtime_error;
};

/// The search is stopping (Ctrl-C): the trial is put back to be run again on resume.
class TrialInterrupted : public std::runtime_error {
 public:
  TrialInterrupted() : std::runtime_error("trial interrupted") {}
};

/// The shortest text that reads back to `x` ("0.1", "1e-05", "2"; "nan", "inf", "-inf").
std::string real_text(double x);

/// Throws InvalidArgument("<who>: <rule> must hold, got <got>") unless `ok`:
///   require(o.factor >= 2, "Hyperband", "factor >= 2", o.factor);
/// `got` is the text shown after "got": the offending value, or several ("low=5, high=1").
void require(bool ok, std::string_view who, std::string_view rule, std::string_view got);
/// The same with a real shown in its shortest exact form ("0.1", "1e-05", "2"; "nan", "inf").
void require(bool ok, std::string_view who, std::string_view rule, double got);
/// The same with an integer shown in full.
void require(bool ok, std::string_view who, std::string_view rule, std::integral auto got) {
  if (!ok) require(false, who, rule, std::string_view(std::to_string(got)));
}

}  // namespace quarry
