// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QString>

// A model folder (bf16/f32 safetensors) packed once into a GGUF with ternary weights, kept beside
// it in <folder>/mmfree-pack/<fingerprint>.gguf, so later switches load 2-bit weights directly
// instead of re-reading and re-quantizing the whole checkpoint. The file name is the folder's
// weight fingerprint: retrained weights (any changed byte) never load an old pack.
namespace ModelPack {

bool isPackable(const QString& path);                      // a folder with config.json
QString packDirectory(const QString& folder);              // <folder>/mmfree-pack
QString packFile(const QString& folder, const QString& fingerprint);
QString existingPack(const QString& folder);               // the pack there now, any fingerprint ("" = none)
qint64 diskBytes(const QString& folder);                   // what the pack takes (0 = none)
bool remove(const QString& folder);                        // deletes the pack folder

// The folder's weight fingerprint (mmfree::hf_folder_fingerprint): the one remembered in the pack
// folder when every file beside it has the size and times recorded with it (a directory listing
// instead of hashing every weight: 5.4 GB for a bf16 2.7B), else hashed. `remembered` says which.
// Throws as hf_folder_fingerprint does.
QString fingerprint(const QString& folder, bool* remembered = nullptr);
// Records `fingerprint` for the folder's files as they are now: after its pack was written or
// loaded, never for a folder that failed to load.
void rememberFingerprint(const QString& folder, const QString& fingerprint);

} // namespace ModelPack
