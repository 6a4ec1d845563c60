#pragma once
// SIGINT and SIGTERM as a value: the handler only records which signal came, and the long waits
// (a worker's answer, a child process, the run's scheduler) look at it between polls, at least
// once a second, and end with "interrupted" instead of waiting on. The one piece of global
// mutable state in crossload, and the documented exception to that rule: a signal handler can
// reach nothing else (it is a single `volatile sig_atomic_t`, written only by the handler).
namespace crossload {

// Installs the handler for SIGINT and SIGTERM. SIGINT's disposition is set explicitly: a job
// started with `&` by a non-interactive shell inherits SIGINT ignored, and must still stop.
void install_interrupt_handlers();

// The signal that asked crossload to stop (SIGINT or SIGTERM), 0 while none has.
int interrupt_signal();
inline bool interrupted() { return interrupt_signal() != 0; }

// "SIGINT", "SIGTERM".
const char* interrupt_signal_name();

}  // namespace crossload
