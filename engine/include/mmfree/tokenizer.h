// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mmfree {

// SentencePiece tokenizer (the model's own tokenizer.model).
class Tokenizer {
public:
    static std::unique_ptr<Tokenizer> load(const std::filesystem::path& tokenizer_model);
    // From the bytes of a tokenizer.model (as embedded in a GGUF file); `origin` names it in errors.
    static std::unique_ptr<Tokenizer> load_from_bytes(std::string_view serialized, const std::string& origin);
    // From a model's files; throws Error(TokenizerMissing) with a message naming the folder.
    static std::unique_ptr<Tokenizer> for_model(const struct Model& model);
    ~Tokenizer();

    std::vector<int32_t> encode(std::string_view text, bool add_bos) const;
    std::string decode(const std::vector<int32_t>& ids) const;
    int vocab_size() const;
    int bos_id() const;
    int eos_id() const;

    // Raw bytes of one token as it appears inside text (▁ → space; byte-fallback pieces → the byte).
    std::string token_bytes(int32_t id) const;
    bool is_control(int32_t id) const;

private:
    Tokenizer();
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Turns a token stream into text pieces that are always complete UTF-8: bytes of a character
// split across byte-fallback tokens are held back until the character is whole.
class StreamingDecoder {
public:
    // strip_leading_space: decoding from the start of a sequence drops the dummy-prefix space,
    // as SentencePiece does; a continuation after a prompt keeps it.
    explicit StreamingDecoder(const Tokenizer& tokenizer, bool strip_leading_space = false)
        : tokenizer_(tokenizer), strip_leading_space_(strip_leading_space) {}
    std::string push(int32_t id);   // text that became complete with this token (may be empty)
    std::string flush();            // whatever is held back (invalid tails become U+FFFD)
    void reset() { pending_.clear(); at_start_ = true; }

private:
    const Tokenizer& tokenizer_;
    std::string pending_;
    bool strip_leading_space_;
    bool at_start_ = true;
};

} // namespace mmfree
