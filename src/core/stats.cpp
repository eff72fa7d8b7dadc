#include "core/stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace core {

double LatencyStats::quantile_us(double q) const {
  if (m_samples.empty()) {
    return 0;
  }
  if (!m_sorted) {
    std::sort(m_samples.begin(), m_samples.end());
    m_sorted = true;
  }
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(m_samples.size())));
  size_t index = rank == 0 ? 0 : rank - 1;
  return static_cast<double>(m_samples[index]) / 1000.0;
}

std::string LatencyStats::summary() const {
  return fmt::format("{} callbacks, callback->line p50 {:.0f} us, p99 {:.0f} us, max {:.0f} us",
                     count(),
                     quantile_us(0.5),
                     quantile_us(0.99),
                     quantile_us(1.0));
}

} // namespace core
