// File: plugins.h
//
// The in-tree registry: every plugin Kestrel implements, under its upstream
// name, with its typed args.

#ifndef KESTREL_SCHEDULER_PLUGINS_H_
#define KESTREL_SCHEDULER_PLUGINS_H_

#include "scheduler/framework/registry.h"

namespace kestrel::scheduler {

framework::Registry InTreeRegistry();

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_PLUGINS_H_
