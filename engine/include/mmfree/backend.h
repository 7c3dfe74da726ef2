// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mmfree/metrics.h"
#include "mmfree/model.h"
#include "mmfree/sampler.h"

namespace mmfree {

// Measurements a backend can make of itself for `mmfree bench` and the dashboard: probes of the
// device, not part of running a model. Every executor has one (Executor::diagnostics()).
class Diagnostics {
public:
    virtual ~Diagnostics() = default;

    // Streaming-read bandwidth of the memory the weights live in (GB/s), measured now; the
    // roofline that `mmfree bench` compares decode against. The default measures host memory.
    virtual double measure_read_bandwidth_gb_s();

    // The synchronization floor under decode (µs): one step of a chain of dependent grid-wide
    // steps in which every workgroup reads the whole `floats`-long vector the previous step
    // wrote, sums it and writes its slice of the next (runtime/step_chain.h) — how one decode
    // BitLinear hands its output to the next, without weights or arithmetic. The result is
    // checked on the host. 0 where the backend has no such hand-over (the CPU).
    virtual double measure_step_floor_us(int floats) { (void)floats; return 0.0; }

    // Backend-specific figures, e.g. {"fpga_cycles_per_token", …}, {"modeled_tok_s", …}. Names
    // carry their unit.
    virtual std::vector<std::pair<std::string, double>> extra_metrics() const { return {}; }
};

// One backend's view of a loaded model: weights prepared once (packed, device-resident), plus
// the recurrent states of up to slot_count() sequences ("slots", L×D floats each: a sequence's
// whole context). Every backend implements the same math (MODEL_SPEC.md); the CPU reference is
// the readable specification.
//
// Many sequences share one pass over the weights: decode() advances any set of slots by one
// token each, and prefill() feeds one slot's prompt in pieces as short as the caller likes, so a
// scheduler can interleave a long prompt with running streams (continuous batching). A result
// never depends on which other slots share the step.
// A piece of one sequence's prompt for Executor::prefill_many.
struct PromptPiece {
    int slot = 0;
    const int32_t* tokens = nullptr;
    size_t count = 0;
};

class Executor {
public:
    virtual ~Executor() = default;

    virtual std::string backend_name() const = 0;  // "cpu", "cpu-reference", "vulkan", "cuda", "fpga-sim", …
    virtual std::string device_name() const = 0;   // a person-readable device description
    virtual const Model& model() const = 0;

    // The number of sequence states, fixed at creation (BackendOptions::slot_count); all start at zero.
    virtual int slot_count() const = 0;

    // Feeds `count` tokens of the sequence in `slot`, in order, advancing its state. Writes logits
    // for every position (count × V floats) when all_positions, otherwise only for the last token
    // (V floats); `logits` may be null when none are needed.
    virtual void prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) = 0;
    // prefill() of several distinct slots' pieces, without logits, in as few passes as the
    // backend can: the rows of many short prompts (a burst of chat requests) share each read of
    // the weights. Each slot ends as if its piece had been fed alone. The default feeds them one
    // after another.
    virtual void prefill_many(const std::vector<PromptPiece>& pieces);

    // Advances n distinct slots by one token each: slot_ids[b] is fed tokens[b]. Row b of `logits`
    // (n × V floats) and argmax[b] belong to slot_ids[b]; either output may be null (GPU backends
    // then skip the read-back). n = 1 is the single-stream decode; n = 0 does nothing.
    virtual void decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax) = 0;
    // decode() that leaves the logits where the backend keeps them in host memory and returns them
    // (n × V floats, valid until the next call on this executor): a GPU backend hands out its
    // read-back buffer instead of copying 256 rows (32 MB) per step. The default decodes into a
    // buffer of the executor's.
    virtual const float* decode_logits(const int32_t* slot_ids, const int32_t* tokens, size_t n);

    // decode() whose rows are drawn by sampler.h's definition where the logits are: draws[b] says
    // how row b is drawn (Sampler::next_draw; penalties are the caller's), tokens_out[b] gets the
    // token Sampler::draw would pick from decode()'s logits. A backend that samples_on_device()
    // never reads the logits back; the default reads them and draws on the host, row after row.
    virtual bool samples_on_device() const { return false; }
    void decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws, int32_t* tokens_out) {
        begin_decode_sample(slot_ids, tokens, n, draws);
        end_decode_sample(tokens_out);
    }
    // decode_sample in two halves, so that the caller's host work overlaps the device's step:
    // begin starts it (the arguments are copied) and returns, end waits and writes the n tokens.
    // Nothing else may be called on the executor in between. The default does it all in begin.
    virtual void begin_decode_sample(const int32_t* slot_ids, const int32_t* tokens, size_t n, const sampling::Draw* draws);
    virtual void end_decode_sample(int32_t* tokens_out) { std::copy(sampled_.begin(), sampled_.end(), tokens_out); }

    // Readies what batched steps of every size need (a GPU backend compiles its kernels for each
    // batch shape), so that no request waits for it later; a server calls it before it is ready.
    // It may run steps on the slots and reset them: call it before they hold anything. The
    // default has nothing to do.
    virtual void prepare_batches() {}

    virtual void reset_slot(int slot) = 0;                                    // h[l] = 0
    virtual std::vector<float> save_slot(int slot) const = 0;                 // L×D floats
    virtual void load_slot(int slot, const std::vector<float>& state) = 0;    // throws on a size mismatch

    // The single-sequence calls: slot 0, through the calls above (one token goes through decode).
    void forward(const int32_t* tokens, size_t count, float* logits, bool all_positions);
    int32_t forward_argmax(int32_t token);
    void reset_state() { reset_slot(0); }
    std::vector<float> save_state() const { return save_slot(0); }
    void load_state(const std::vector<float>& state) { load_slot(0, state); }

    // Stage times of the last prefill or decode call (a whole batch step for decode).
    virtual StageTimes last_stage_times() const { return {}; }
    virtual size_t device_memory_bytes() const { return 0; }         // 0 for host memory
    // Asks the driver now (not free: call it per generation, not per token).
    virtual DeviceMemoryBudget device_memory_budget() const { return {}; }

    virtual Diagnostics& diagnostics();   // the default measures host memory and nothing else

protected:
    // For implementations: throws Error(InvalidArgument) unless 0 <= slot < slot_count().
    void check_slot(int slot) const;
    // For implementations: throws unless slot_ids[0..n) are valid and distinct.
    void check_slots(const int32_t* slot_ids, size_t n) const;

private:
    std::vector<float> decoded_logits_;   // decode_logits()' default buffer
    std::vector<int32_t> sampled_;        // begin_decode_sample()'s default: the tokens for end
};

struct BackendOptions {
    std::string backend = "auto";  // auto | cpu | cpu-reference | vulkan | cuda | fpga-sim | plugin:PATH
    std::string device;            // index or name substring, backend-specific; empty = best
    int threads = 0;               // CPU threads; 0 = all cores
    bool profile = false;          // collect StageTimes (GPU timestamp queries)
    bool allow_fallback = true;    // if the chosen GPU fails, continue on the CPU
    int slot_count = 1;            // sequence states the executor holds (see Executor::slot_count)
    std::string cpu_weights = "auto";  // CPU weight layout: auto (the faster here) | 2bit | 1.6bit
};

// A device a person could choose. Backends that are compiled in but unusable are listed with
// usable=false and the reason ("no Vulkan device", "CUDA driver not found").
struct DeviceInfo {
    std::string backend;     // "cpu", "vulkan", "cuda", "fpga-sim"
    int index = 0;
    std::string name;
    std::string type;        // "cpu", "discrete-gpu", "integrated-gpu", "virtual-gpu", "fpga"
    std::string driver;
    uint64_t memory_bytes = 0;
    std::string features;    // e.g. "int8 dot product, subgroup 32"
    bool usable = true;
    std::string reason;      // why not usable
};

// Creates an executor for `model`. With backend "auto": Vulkan on the best device when one works,
// else the CPU. When the requested GPU backend fails and allow_fallback is set, returns a CPU
// executor and writes the reason to *fallback_note; otherwise throws Error(DeviceError).
std::unique_ptr<Executor> create_executor(std::shared_ptr<const Model> model, const BackendOptions& options,
                                          std::string* fallback_note = nullptr);

std::vector<DeviceInfo> list_devices();

} // namespace mmfree
