// SPDX-License-Identifier: Apache-2.0
#pragma once

// The app's look: Fusion style, a light palette and the stylesheet from resources (one call,
// shared by main() and the GUI tests so screenshots show what people see).
void applyStudioStyle();
