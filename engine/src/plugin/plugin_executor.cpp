// SPDX-License-Identifier: Apache-2.0
#include "plugin_executor.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "mmfree/error.h"
#include "model_desc.h"
#include "runtime/backends.h"

namespace mmfree::plugin {

namespace fs = std::filesystem;

// dlopen handle, closed after the last executor using it is gone.
class PluginLibrary {
public:
    explicit PluginLibrary(const std::string& path) {
        handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle_) {
            const char* e = dlerror();
            throw Error(ErrorCode::DeviceError, "cannot load the FPGA plugin " + path + ": " + (e ? e : "unknown error"));
        }
        auto entry = reinterpret_cast<mmfa_plugin_entry_fn>(dlsym(handle_, MMFA_PLUGIN_ENTRY));
        api_ = entry ? entry(MMFA_PLUGIN_ABI_VERSION) : nullptr;
        if (!api_ || api_->struct_size < sizeof(mmfa_plugin_api)) {
            dlclose(handle_);
            throw Error(ErrorCode::DeviceError, path + " is not an MMFA plugin for ABI version " +
                                                    std::to_string(MMFA_PLUGIN_ABI_VERSION));
        }
    }
    ~PluginLibrary() { dlclose(handle_); }
    const mmfa_plugin_api* api() const { return api_; }

private:
    void* handle_ = nullptr;
    const mmfa_plugin_api* api_ = nullptr;
};

static fs::path exe_dir() {
    std::error_code ec;
    const fs::path p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : p.parent_path();
}

std::string find_plugin() {
    const char* file = "libmmfree-fpga.so";
    if (const char* env = std::getenv("MMFREE_FPGA_PLUGIN"); env && *env) return env;
    std::vector<fs::path> candidates;
    const fs::path dir = exe_dir();
    if (!dir.empty())
        for (const char* rel : {".", "../lib", "../lib/mmfree", "../lib/x86_64-linux-gnu/mmfree", "../../lib"})
            candidates.push_back(dir / rel / file);
#ifdef MMFREE_FPGA_PLUGIN_BUILD_PATH
    candidates.push_back(MMFREE_FPGA_PLUGIN_BUILD_PATH);
#endif
    for (const auto& c : candidates) {
        std::error_code ec;
        if (fs::exists(c, ec)) return c.lexically_normal().string();
    }
    return {};
}

PluginExecutor::PluginExecutor(std::shared_ptr<const Model> model, const std::string& library, const std::string& spec, int num_slots)
    : model_(std::move(model)) {
    if (num_slots < 1) throw Error(ErrorCode::InvalidArgument, "an executor needs at least one sequence slot");
    slots_.assign(size_t(num_slots), std::vector<float>(state_floats(), 0.f));
    const std::string path = library.empty() ? find_plugin() : library;
    if (path.empty())
        throw Error(ErrorCode::DeviceError, "the FPGA plugin (libmmfree-fpga.so) is not installed; set MMFREE_FPGA_PLUGIN "
                                            "to its path or build with MMFREE_FPGA=ON");
    lib_ = std::make_shared<PluginLibrary>(path);
    api_ = lib_->api();
    dev_ = api_->open(spec.c_str(), err_, sizeof err_);
    if (!dev_) throw Error(ErrorCode::DeviceError, std::string("FPGA device \"") + spec + "\" unavailable: " + err_);
    info_.struct_size = sizeof info_;
    api_->device_info(dev_, &info_);
    backend_ = spec.rfind("sim", 0) == 0 ? "fpga-sim" : "fpga";
    device_ = info_.name;
    const ModelDesc d = describe(*model_);
    check(api_->load_model(dev_, &d.desc, err_, sizeof err_), "loading the model");
    device_bytes_ = model_->packed_weight_bytes();
}

PluginExecutor::~PluginExecutor() {
    if (api_ && dev_) api_->close(dev_);
}

void PluginExecutor::check(int rc, const char* what) const {
    if (rc == MMFA_OK) return;
    const ErrorCode code = rc == MMFA_ERR_INVALID ? ErrorCode::InvalidArgument : ErrorCode::DeviceError;
    throw Error(code, std::string("FPGA ") + what + ": " + err_);
}

void PluginExecutor::embed(const int32_t* tokens, size_t count) {
    const int H = model_->config.hidden_size, V = model_->config.vocab_size;
    rows_.resize(count * size_t(H));
    for (size_t t = 0; t < count; ++t) {
        if (tokens[t] < 0 || tokens[t] >= V)
            throw Error(ErrorCode::InvalidArgument, "token id " + std::to_string(tokens[t]) + " is outside the vocabulary");
        const float* e = model_->embeddings.data() + size_t(tokens[t]) * size_t(H);
        std::copy(e, e + H, rows_.begin() + std::ptrdiff_t(t * size_t(H)));
    }
}

void PluginExecutor::make_resident(int slot) {
    if (slot == resident_) return;
    check(api_->get_state(dev_, slots_[size_t(resident_)].data(), state_floats(), err_, sizeof err_), "save_state");
    check(api_->set_state(dev_, slots_[size_t(slot)].data(), state_floats(), err_, sizeof err_), "load_state");
    resident_ = slot;
}

void PluginExecutor::prefill(int slot, const int32_t* tokens, size_t count, float* logits, bool all_positions) {
    check_slot(slot);
    if (count == 0) return;
    embed(tokens, count);
    make_resident(slot);
    check(api_->forward(dev_, rows_.data(), count, logits, all_positions, nullptr, err_, sizeof err_), "forward");
}

void PluginExecutor::decode(const int32_t* slot_ids, const int32_t* tokens, size_t n, float* logits, int32_t* argmax_out) {
    check_slots(slot_ids, n);
    const size_t V = size_t(model_->config.vocab_size);
    for (size_t b = 0; b < n; ++b) {
        embed(&tokens[b], 1);
        make_resident(slot_ids[b]);
        int32_t best = 0;
        // on-chip argmax: no logits read-back when only the argmax is wanted
        check(api_->forward(dev_, rows_.data(), 1, logits ? logits + b * V : nullptr, 0, argmax_out ? &best : nullptr, err_,
                            sizeof err_),
              "forward");
        if (argmax_out) argmax_out[b] = best;
    }
}

void PluginExecutor::reset_slot(int slot) {
    check_slot(slot);
    if (slot == resident_) check(api_->reset_state(dev_, err_, sizeof err_), "reset_state");
    else std::fill(slots_[size_t(slot)].begin(), slots_[size_t(slot)].end(), 0.f);
}

std::vector<float> PluginExecutor::save_slot(int slot) const {
    check_slot(slot);
    if (slot != resident_) return slots_[size_t(slot)];
    std::vector<float> s(state_floats());
    check(api_->get_state(dev_, s.data(), s.size(), err_, sizeof err_), "save_state");
    return s;
}

void PluginExecutor::load_slot(int slot, const std::vector<float>& state) {
    check_slot(slot);
    if (state.size() != state_floats())
        throw Error(ErrorCode::InvalidArgument, "state has " + std::to_string(state.size()) + " floats; the model needs " +
                                                    std::to_string(state_floats()));
    if (slot != resident_) slots_[size_t(slot)] = state;
    else check(api_->set_state(dev_, state.data(), state.size(), err_, sizeof err_), "load_state");
}

mmfa_metrics PluginExecutor::accelerator_metrics() const {
    mmfa_metrics m{};
    m.struct_size = sizeof m;
    api_->metrics(dev_, &m);
    return m;
}

std::vector<std::pair<std::string, double>> PluginExecutor::extra_metrics() const {
    const mmfa_metrics m = accelerator_metrics();
    return {{"fpga_lanes", double(info_.lanes)},
            {"fpga_clock_hz", m.clk_hz},
            {"fpga_cycles_per_token", m.cycles_per_token},
            {"fpga_modeled_tok_s", m.modeled_tok_s},
            {"fpga_modeled_tok_s_with_pcie", m.modeled_tok_s_with_io},
            {"fpga_modeled_j_per_token", m.joules_per_token},
            {"fpga_modeled_watts", m.watts},
            {"fpga_power_source_modeled", m.power_source == 1 ? 1.0 : 0.0},
            {"fpga_sim_cycles_per_s", m.sim_cycles_per_s}};
}

void PluginExecutor::set_option(const std::string& key, const std::string& value) {
    check(api_->set_option(dev_, key.c_str(), value.c_str(), err_, sizeof err_), "set_option");
}

void PluginExecutor::soft_reset() { check(api_->soft_reset(dev_, err_, sizeof err_), "soft_reset"); }

} // namespace mmfree::plugin

namespace mmfree::backends {

// "fpga-sim" → the simulated board; "plugin:PATH[#SPEC]" → that library, device SPEC (default sim).
std::unique_ptr<Executor> create_plugin(std::shared_ptr<const Model> model, const BackendOptions& options) {
    std::string library, spec = "sim";
    if (options.backend.rfind("plugin:", 0) == 0) {
        library = options.backend.substr(7);
        if (const auto h = library.find('#'); h != std::string::npos) {
            spec = library.substr(h + 1);
            library.resize(h);
        }
    }
    if (!options.device.empty() && options.device != "0") spec = options.device;
    return std::make_unique<plugin::PluginExecutor>(std::move(model), library, spec, options.slot_count);
}

std::vector<DeviceInfo> plugin_devices() {
    DeviceInfo d;
    d.backend = "fpga-sim";
    d.name = "FPGA (simulated)";
    d.type = "fpga";
    d.driver = "MMFA plugin, Verilator";
    d.features = "256 ternary lanes, on-chip argmax, modeled power";
    const std::string path = plugin::find_plugin();
    std::error_code ec;
    if (path.empty()) {
        d.usable = false;
        d.reason = "the FPGA plugin (libmmfree-fpga.so) is not installed";
    } else if (!std::filesystem::exists(path, ec)) {   // $MMFREE_FPGA_PLUGIN names a file that is gone
        d.usable = false;
        d.reason = "the FPGA plugin " + path + " does not exist";
    } else {
        d.driver += " (" + path + ")";
    }
    return {d};
}

} // namespace mmfree::backends
