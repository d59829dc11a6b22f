// CheckElfSharedObject: is a plugin file a complete shared library for this
// host, before dlopen maps it?
//
// dlopen trusts the file: it maps every loadable segment the program
// headers describe, and touching a mapped page past the end of the file
// raises SIGBUS in the process. A plugin copied into the plugin directory
// while a reload runs (or cut short by a full disk) is exactly such a file,
// so the host checks the file's structure first, reading it with pread only
// (never mmap, so a file shrinking under the check cannot fault either):
//
//   - at least an ELF header, with the ELF magic number;
//   - the host's class (32/64-bit), byte order and machine; ET_DYN;
//   - the program header table and every segment's file bytes
//     (p_offset + p_filesz) inside the file, at least one PT_LOAD, no
//     segment with more file bytes than memory bytes;
//   - the section header table and every section's bytes (except NOBITS)
//     inside the file;
//   - a PT_DYNAMIC segment whose address entries (string and symbol tables,
//     hash tables, relocations, init/fini arrays, version tables) point
//     into a loaded segment, and whose string table lies inside the file.
//
// This catches truncated and garbled files; it is not a defence against a
// crafted one (plugins are trusted code, see docs/writing-plugins.md).
//
// Thread-safety: a plain function; `fd` is only read with pread.

#ifndef HEALTHSCORE_ENGINE_PLUGIN_HOST_ELF_CHECK_H_
#define HEALTHSCORE_ENGINE_PLUGIN_HOST_ELF_CHECK_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace healthscore::engine::plugin_host {

// What the check learned about a good file.
struct ElfFacts {
  // A DT_NEEDED, DT_RPATH or DT_RUNPATH entry names $ORIGIN: the library
  // finds its dependencies relative to its own file, so it must be loaded
  // from its own path rather than from a copy elsewhere.
  bool uses_origin = false;
};

// Checks the first `size` bytes of `fd` (from offset 0) as described in the
// file comment. `path` names the file in messages. Errors, each
// FailedPrecondition starting "cannot load plugin 'PATH': ":
//   - "the file is truncated: ..." naming the part that ends past the end
//     of the file, the byte it ends at and the file's size, then "; was it
//     copied while being written?";
//   - "it is not a shared library: ..." (no ELF magic number, an
//     executable or object file) or "it was built for ..." (another
//     class, byte order or machine);
//   - "it is not a valid ELF shared library: ..." for a corrupt header.
absl::StatusOr<ElfFacts> CheckElfSharedObject(int fd, uint64_t size,
                                              const std::string& path);

}  // namespace healthscore::engine::plugin_host

#endif  // HEALTHSCORE_ENGINE_PLUGIN_HOST_ELF_CHECK_H_
