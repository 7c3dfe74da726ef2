// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <stdexcept>
#include <string>

namespace mmfree {

// The kind of failure, so callers (CLI exit codes, the app's fallback logic) can react without
// parsing messages. The message itself is written for a person and says what to do.
enum class ErrorCode {
    InvalidArgument,   // bad option, empty prompt, token id out of range
    FileNotFound,      // path missing or unreadable
    CorruptFile,       // truncated / malformed safetensors, GGUF, JSON
    UnsupportedModel,  // valid file, but a config option the engine does not implement
    TokenizerMissing,  // a text command on a folder without tokenizer.model
    DeviceError,       // GPU / FPGA failure: device lost, allocation failed, timeout
    Cancelled,         // generation stopped on request
    Busy,              // every queue place is taken (the server answers 429): try again shortly
    Internal,
};

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const { return code_; }

private:
    ErrorCode code_;
};

} // namespace mmfree
