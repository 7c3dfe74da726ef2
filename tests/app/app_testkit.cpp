// SPDX-License-Identifier: Apache-2.0
#include "app_testkit.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "format/gguf_model.h"
#include "format/safetensors.h"
#include "mmfree/model.h"

namespace apptest {

QString makeChatModel(const QString& dir, unsigned seed) {
    QDir().mkpath(dir);
    const int V = 32000, H = 64, L = 2, I = 128, D = H;
    const QJsonObject config{{"model_type", "hgrn_bit"},     {"vocab_size", V},        {"hidden_size", H},
                             {"num_hidden_layers", L},       {"intermediate_size", I}, {"expand_ratio", 1},
                             {"hidden_ratio", 4},            {"num_heads", 1},         {"rms_norm_eps", 1e-6},
                             {"use_lower_bound", true},      {"bos_token_id", 1},      {"eos_token_id", 2},
                             {"tie_word_embeddings", false}, {"use_short_conv", false}, {"torch_dtype", "float32"}};
    QFile cfg(QDir(dir).filePath("config.json"));
    if (!cfg.open(QIODevice::WriteOnly)) return {};
    cfg.write(QJsonDocument(config).toJson());
    cfg.close();

    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::deque<std::vector<float>> storage;   // deque: element addresses stay valid
    std::vector<mmfree::TensorToWrite> tensors;
    auto add = [&](const std::string& name, std::vector<int64_t> shape, float scale, float offset = 0.f) {
        size_t n = 1;
        for (auto d : shape) n *= size_t(d);
        auto& data = storage.emplace_back(n);
        for (auto& x : data) x = offset + scale * normal(rng);
        tensors.push_back({name, mmfree::DType::F32, shape, data.data()});
    };
    add("model.embeddings.weight", {V, H}, 1.0f);
    add("model.lower_bounds", {L, H}, 0.1f);
    for (int l = 0; l < L; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "attn_norm.weight", {H}, 0.05f, 1.f);
        for (const char* proj : {"i_proj", "f_proj", "g_proj"}) {
            add(p + "attn." + proj + ".weight", {D, H}, 0.05f);
            add(p + "attn." + proj + ".norm.weight", {H}, 0.05f, 1.f);
        }
        add(p + "attn.g_norm.weight", {D}, 0.05f, 1.f);
        add(p + "attn.o_proj.weight", {H, D}, 0.05f);
        add(p + "attn.o_proj.norm.weight", {D}, 0.05f, 1.f);
        add(p + "mlp_norm.weight", {H}, 0.05f, 1.f);
        add(p + "mlp.gate_proj.weight", {2 * I, H}, 0.05f);
        add(p + "mlp.gate_proj.norm.weight", {H}, 0.05f, 1.f);
        add(p + "mlp.down_proj.weight", {H, I}, 0.05f);
        add(p + "mlp.down_proj.norm.weight", {I}, 0.05f, 1.f);
    }
    add("model.norm.weight", {H}, 0.05f, 1.f);
    add("lm_head.weight", {V, H}, 0.05f);
    add("lm_head.norm.weight", {H}, 0.05f, 1.f);
    mmfree::write_safetensors((QDir(dir).filePath("model.safetensors")).toStdString(), tensors);

    const QString tok = QDir(dir).filePath("tokenizer.model");
    QFile::remove(tok);
    if (!QFile::copy(QStringLiteral(MMFREE_TEST_DATA "/mistral-v1.tokenizer.model"), tok)) return {};
    return dir;
}

bool shardChatModel(const QString& dir) {
    const std::string single = QDir(dir).filePath("model.safetensors").toStdString();
    {
        const mmfree::TensorSet ts = mmfree::TensorSet::open_file(single);
        const std::vector<std::string> names = ts.names();
        std::vector<mmfree::TensorToWrite> shard[2];
        QJsonObject map;
        for (size_t i = 0; i < names.size(); ++i) {
            const mmfree::TensorView* t = ts.find(names[i]);
            const int s = i < names.size() / 2 ? 0 : 1;
            shard[s].push_back({names[i], t->dtype, t->shape, t->data});
            map[QString::fromStdString(names[i])] = QStringLiteral("model-0000%1-of-00002.safetensors").arg(s + 1);
        }
        for (int s = 0; s < 2; ++s)
            mmfree::write_safetensors(QDir(dir).filePath(QStringLiteral("model-0000%1-of-00002.safetensors").arg(s + 1)).toStdString(), shard[s]);
        QFile index(QDir(dir).filePath("model.safetensors.index.json"));
        if (!index.open(QIODevice::WriteOnly)) return false;
        index.write(QJsonDocument(QJsonObject{{"weight_map", map}}).toJson());
    }
    return QFile::remove(QString::fromStdString(single));
}

QString packChatModel(const QString& folder, const QString& file) {
    mmfree::write_gguf_model(*mmfree::load_model(folder.toStdString()), file.toStdString());
    return file;
}

QString goldenModelWithoutTokenizer() { return QStringLiteral(MMFREE_TEST_DATA "/tiny-b"); }

} // namespace apptest
