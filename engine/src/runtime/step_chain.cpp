// SPDX-License-Identifier: Apache-2.0
#include "runtime/step_chain.h"

#include <cmath>
#include <string>

#include "mmfree/error.h"

namespace mmfree {

void check_step_chain(const std::vector<float>& device, int applications, const char* backend) {
    const size_t n = device.size();
    std::vector<double> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = step_chain_initial(i);
    for (int k = 0; k < applications; ++k) {
        double sum = 0;
        for (double x : v) sum += x;
        const double mean = sum / double(n);
        for (double& x : v) x = 0.5 * x + 0.5 * mean + 1.0;
    }
    for (size_t i = 0; i < n; ++i)
        if (!(std::fabs(device[i] - v[i]) <= 1e-4 * (std::fabs(v[i]) + 1.0)))
            throw Error(ErrorCode::DeviceError, std::string(backend) + ": the step-chain probe computed " + std::to_string(device[i]) +
                                                    " at element " + std::to_string(i) + ", expected " + std::to_string(v[i]) +
                                                    " (a step read its input before the previous step had written it)");
}

} // namespace mmfree
