// Quarry's error types.
//
// One root (`quarry::Error`) with a few children for fatal conditions, and trial outcomes kept
// apart: `TrialFailed` and `TrialPruned` end one trial (recorded, the search goes on), everything
// else derived from `Error` stops the operation that raised it.
#pragma once

#include <stdexcept>
#include <string>

namespace quarry {

/// Root of every error Quarry raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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

}  // namespace quarry
