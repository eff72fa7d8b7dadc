#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace core {

// Latency samples (callback received -> its line written), summarised as percentiles for
// `run --stats`. Not thread-safe: the writer alone records.
class LatencyStats {
public:
  void record(std::chrono::nanoseconds sample) { m_samples.push_back(sample.count()); }
  size_t count() const { return m_samples.size(); }
  // The q-th quantile (0..1) in microseconds, nearest rank; 0 with no samples.
  double quantile_us(double q) const;
  // "N lines, callback->line p50 X us, p99 Y us, max Z us".
  std::string summary() const;

private:
  mutable std::vector<long long> m_samples;
  mutable bool m_sorted = false;
};

} // namespace core
