#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>

#include "io/Clock.h"

namespace ferry::forward {

/// Totals of a process's UDP flows, for the `--stats` line.
struct UdpStats {
  uint64_t flows = 0;     // open now
  uint64_t opened = 0;    // since start
  uint64_t sent = 0;      // datagrams read from local sockets and sent to the peer
  uint64_t received = 0;  // datagrams from the peer written to local sockets
  uint64_t dropped = 0;   // carrier congested, socket buffer full, no session, unknown flow, limit
  uint64_t gsoSends = 0;  // sends to local sockets that carried several datagrams (UDP_SEGMENT)
  uint64_t groBuffers = 0;  // reads from local sockets that held several datagrams (UDP_GRO)
};

/// The flows of one session by flow id, kept in order of last activity so that idle expiry
/// visits only the flows that expire: marking a flow active is O(1) (a move to the back of a
/// list), and expire() stops at the first flow that is still fresh. No timer per flow: the owner
/// calls expire() from the session's existing timer. At most `limit` flows.
template <typename Flow>
class UdpFlowTable {
 public:
  struct Entry {
    uint32_t id;
    io::TimePoint lastActive;
    Flow flow;
  };

  explicit UdpFlowTable(size_t limit) : limit_(limit) {}

  size_t size() const { return index_.size(); }
  bool full() const { return index_.size() >= limit_; }

  /// Adds `flow` as active at `now`; nullptr when the table is full or `id` is taken.
  Entry* add(uint32_t id, Flow flow, io::TimePoint now) {
    if (full() || index_.contains(id)) {
      return nullptr;
    }
    order_.push_back({id, now, std::move(flow)});
    index_.emplace(id, std::prev(order_.end()));
    return &order_.back();
  }

  Entry* find(uint32_t id) {
    auto found = index_.find(id);
    return found == index_.end() ? nullptr : &*found->second;
  }

  /// find() that also marks the flow active at `now`.
  Entry* touch(uint32_t id, io::TimePoint now) {
    auto found = index_.find(id);
    if (found == index_.end()) {
      return nullptr;
    }
    found->second->lastActive = now;
    order_.splice(order_.end(), order_, found->second);
    return &*found->second;
  }

  void remove(uint32_t id) {
    auto found = index_.find(id);
    if (found != index_.end()) {
      order_.erase(found->second);
      index_.erase(found);
    }
  }

  /// Removes every flow idle for `timeout` or longer at `now`, oldest first, calling
  /// `onExpired(entry)` just before each is removed; returns how many.
  template <typename OnExpired>
  size_t expire(io::TimePoint now, io::Duration timeout, OnExpired&& onExpired) {
    size_t count = 0;
    while (!order_.empty() && now - order_.front().lastActive >= timeout) {
      onExpired(order_.front());
      index_.erase(order_.front().id);
      order_.pop_front();
      count++;
    }
    return count;
  }

  /// Calls `visit(entry)` for each flow, then forgets them all.
  template <typename Visit>
  void clear(Visit&& visit) {
    for (Entry& entry : order_) {
      visit(entry);
    }
    order_.clear();
    index_.clear();
  }

 private:
  size_t limit_;
  std::list<Entry> order_;  // least recently active first
  std::unordered_map<uint32_t, typename std::list<Entry>::iterator> index_;
};

}  // namespace ferry::forward
