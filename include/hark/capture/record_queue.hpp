#pragma once

#include "hark/capture/entry_record.hpp"

namespace hark::capture {

/** Where finished entry records go (the store writer; a vector in tests).
 *  submit() is called from proxy worker threads and must never block on I/O. */
class record_queue {
 public:
  virtual ~record_queue() = default;
  /** Takes ownership of `record`. May drop its bodies under pressure (marking them truncated),
   *  never the entry itself. */
  virtual void submit(entry_record&& record) = 0;
};

}  // namespace hark::capture
