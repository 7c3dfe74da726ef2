// SPDX-License-Identifier: Apache-2.0
#include "mmfree/tokenizer.h"

#include <cstdio>
#include <sentencepiece_processor.h>

#include "format/loaders.h"
#include "format/mapped_file.h"
#include "mmfree/error.h"
#include "mmfree/model.h"

namespace mmfree {

struct Tokenizer::Impl {
    sentencepiece::SentencePieceProcessor sp;
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;

// Real SentencePiece models are well under a few MB (a 256k-piece vocabulary is ~5 MB).
constexpr size_t kMaxTokenizerBytes = size_t(64) << 20;

std::string read_tokenizer_file(const std::filesystem::path& path) {
    if (!path_exists(path)) throw Error(ErrorCode::TokenizerMissing, "tokenizer file " + printable_path(path) + " does not exist");
    return read_small_file(path, kMaxTokenizerBytes);
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::filesystem::path& path) {
    // Read here, with type and size checks, rather than by SentencePiece (which reads any file,
    // /dev/zero included, until memory runs out).
    const std::string bytes = read_tokenizer_file(path);
    return load_from_bytes(bytes, printable_path(path));
}

namespace {

bool read_varint(std::string_view b, size_t& i, uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (i >= b.size()) return false;
        const uint8_t c = uint8_t(b[i++]);
        v |= uint64_t(c & 0x7f) << shift;
        if (!(c & 0x80)) return true;
    }
    return false;
}

// Walks one protobuf message; calls on_bytes(field, bytes) for every length-delimited field.
// False when the wire format is broken.
template <class F> bool walk_message(std::string_view b, F&& on_bytes) {
    size_t i = 0;
    while (i < b.size()) {
        uint64_t key, n;
        if (!read_varint(b, i, key)) return false;
        switch (key & 7) {
        case 0: if (!read_varint(b, i, n)) return false; break;
        case 1: if (b.size() - i < 8) return false; i += 8; break;
        case 5: if (b.size() - i < 4) return false; i += 4; break;
        case 2:
            if (!read_varint(b, i, n) || n > b.size() - i) return false;
            if (!on_bytes(key >> 3, b.substr(i, size_t(n)))) return false;
            i += size_t(n);
            break;
        default: return false;   // groups and unknown wire types: not in a ModelProto
        }
    }
    return true;
}

// Every piece of a ModelProto (field 1, its own field 1: the piece text) must be non-empty and
// free of NUL bytes. SentencePiece builds a trie from the pieces and, for such a piece, throws
// from code that cannot pass the exception on: the process ends. So this is checked first.
bool pieces_are_loadable(std::string_view proto) {
    return walk_message(proto, [](uint64_t field, std::string_view bytes) {
        if (field != 1) return true;
        bool has_text = false;
        const bool ok = walk_message(bytes, [&](uint64_t f, std::string_view text) {
            if (f != 1) return true;
            has_text = !text.empty() && text.find('\0') == std::string_view::npos;
            return has_text;
        });
        return ok && has_text;
    });
}

} // namespace

std::unique_ptr<Tokenizer> Tokenizer::load_from_bytes(std::string_view serialized, const std::string& origin) {
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    // SentencePiece's own status text names its source lines ("sentencepiece_processor.cc(1101)"):
    // say what is wrong instead.
    if (serialized.empty()) throw Error(ErrorCode::CorruptFile, "the tokenizer " + origin + " is empty");
    if (!pieces_are_loadable(serialized))
        throw Error(ErrorCode::CorruptFile, "the tokenizer " + origin + " is not a SentencePiece model (damaged: a piece is empty or unreadable)");
    if (!t->impl_->sp.LoadFromSerializedProto(serialized).ok())
        throw Error(ErrorCode::CorruptFile, "the tokenizer " + origin + " is not a SentencePiece model (damaged, or another kind of tokenizer)");
    if (t->vocab_size() <= 0) throw Error(ErrorCode::CorruptFile, "the tokenizer " + origin + " has no pieces");
    return t;
}

namespace {
// Every id the model can produce must be a piece the tokenizer can turn into text, and every piece
// an id the model knows: the counts must be equal.
void check_matches(const Tokenizer& t, const Model& model, const std::string& origin) {
    if (t.vocab_size() == model.config.vocab_size) return;
    throw Error(ErrorCode::UnsupportedModel, "the tokenizer " + origin + " has " + std::to_string(t.vocab_size()) +
                                                 " pieces but the model's vocab_size is " + std::to_string(model.config.vocab_size) +
                                                 ": they do not belong together");
}
} // namespace

std::unique_ptr<Tokenizer> Tokenizer::for_model(const Model& model) {
    // A packed model carries its tokenizer inside the file.
    if (model.tokenizer_path.empty() && !model.tokenizer_model.empty()) {
        const std::string origin = "embedded in " + printable_path(model.source);
        auto t = load_from_bytes(model.tokenizer_model, origin);
        check_matches(*t, model, origin);
        return t;
    }
    if (model.tokenizer_path.empty())
        throw Error(ErrorCode::TokenizerMissing,
                    "the model at " + printable_path(model.source) +
                        " has no tokenizer.model, so it cannot read or write text; put the model's tokenizer.model beside "
                        "config.json (id-level commands such as `logits` and `bench` work without it)");
    auto t = load(model.tokenizer_path);
    check_matches(*t, model, printable_path(model.tokenizer_path));
    return t;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos) const {
    std::vector<int> ids;
    impl_->sp.Encode(std::string(text), &ids);
    std::vector<int32_t> out;
    out.reserve(ids.size() + 1);
    if (add_bos && bos_id() >= 0) out.push_back(bos_id());
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
    std::string text;
    impl_->sp.Decode(std::vector<int>(ids.begin(), ids.end()), &text);
    return text;
}

int Tokenizer::vocab_size() const { return impl_->sp.GetPieceSize(); }
int Tokenizer::bos_id() const { return impl_->sp.bos_id(); }
int Tokenizer::eos_id() const { return impl_->sp.eos_id(); }

bool Tokenizer::is_control(int32_t id) const {
    return id < 0 || id >= vocab_size() || impl_->sp.IsControl(id);
}

std::string Tokenizer::token_bytes(int32_t id) const {
    if (is_control(id)) return {};
    if (impl_->sp.IsUnknown(id)) return " \xE2\x81\x87 ";  // " ⁇ ", as SentencePiece renders <unk>
    const std::string piece = impl_->sp.IdToPiece(id);
    if (impl_->sp.IsByte(id)) {   // "<0xAB>"; a damaged tokenizer may hold anything there
        unsigned value = 0;
        if (piece.size() == 6 && std::sscanf(piece.c_str(), "<0x%2X>", &value) == 1) return std::string(1, char(value));
        return piece;
    }
    std::string out;
    for (size_t i = 0; i < piece.size(); ++i) {
        if (piece.compare(i, 3, "\xE2\x96\x81") == 0) { out += ' '; i += 2; }  // ▁ marks a space
        else out += piece[i];
    }
    return out;
}

namespace {
// Length of the UTF-8 sequence a lead byte starts; 0 for a byte that cannot start one.
int utf8_length(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}
bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
const char kReplacement[] = "\xEF\xBF\xBD";
} // namespace

std::string StreamingDecoder::push(int32_t id) {
    std::string bytes = tokenizer_.token_bytes(id);
    if (bytes.empty()) return {};
    if (at_start_ && strip_leading_space_ && bytes[0] == ' ') bytes.erase(0, 1);
    at_start_ = false;
    pending_ += bytes;
    // Emit every complete character; hold back an unfinished one at the end.
    std::string out;
    size_t i = 0;
    while (i < pending_.size()) {
        const unsigned char c = pending_[i];
        const int len = utf8_length(c);
        if (len == 0) { out += kReplacement; ++i; continue; }
        if (i + len > pending_.size()) {
            bool prefix_ok = true;  // still a possible character: wait for more bytes
            for (size_t k = i + 1; k < pending_.size(); ++k) prefix_ok = prefix_ok && is_continuation(pending_[k]);
            if (prefix_ok) break;
        }
        bool ok = i + len <= pending_.size();
        for (int k = 1; ok && k < len; ++k) ok = is_continuation(pending_[i + k]);
        if (!ok) { out += kReplacement; ++i; continue; }
        out.append(pending_, i, size_t(len));
        i += size_t(len);
    }
    pending_.erase(0, i);
    return out;
}

std::string StreamingDecoder::flush() {
    std::string out;
    for (size_t i = 0; i < pending_.size(); ++i) out += kReplacement;  // an unfinished character at the end
    pending_.clear();
    return out;
}

} // namespace mmfree
