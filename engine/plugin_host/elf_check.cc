#include "engine/plugin_host/elf_check.h"

#include <elf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace healthscore::engine::plugin_host {
namespace {

// The layout this process loads: dlopen refuses any other, but only after
// mapping, so the check names the mismatch first.
#if __SIZEOF_POINTER__ == 8
using Ehdr = Elf64_Ehdr;
using Phdr = Elf64_Phdr;
using Shdr = Elf64_Shdr;
using Dyn = Elf64_Dyn;
constexpr unsigned char kHostClass = ELFCLASS64;
#else
using Ehdr = Elf32_Ehdr;
using Phdr = Elf32_Phdr;
using Shdr = Elf32_Shdr;
using Dyn = Elf32_Dyn;
constexpr unsigned char kHostClass = ELFCLASS32;
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kHostData = ELFDATA2LSB;
#else
constexpr unsigned char kHostData = ELFDATA2MSB;
#endif

#if defined(__x86_64__)
constexpr uint16_t kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kHostMachine = EM_AARCH64;
#elif defined(__i386__)
constexpr uint16_t kHostMachine = EM_386;
#elif defined(__arm__)
constexpr uint16_t kHostMachine = EM_ARM;
#elif defined(__riscv)
constexpr uint16_t kHostMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr uint16_t kHostMachine = EM_PPC64;
#elif defined(__s390x__)
constexpr uint16_t kHostMachine = EM_S390;
#else
constexpr uint16_t kHostMachine = EM_NONE;  // unknown here: dlopen checks
#endif

std::string MachineName(uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86-64";
    case EM_AARCH64:
      return "AArch64";
    case EM_386:
      return "x86 (32-bit)";
    case EM_ARM:
      return "ARM (32-bit)";
    case EM_RISCV:
      return "RISC-V";
    case EM_PPC64:
      return "PowerPC 64";
    case EM_S390:
      return "s390";
  }
  return absl::StrCat("ELF machine ", machine);
}

std::string SegmentType(uint32_t type) {
  switch (type) {
    case PT_LOAD:
      return "LOAD";
    case PT_DYNAMIC:
      return "DYNAMIC";
    case PT_INTERP:
      return "INTERP";
    case PT_NOTE:
      return "NOTE";
    case PT_PHDR:
      return "PHDR";
    case PT_TLS:
      return "TLS";
    case PT_GNU_EH_FRAME:
      return "GNU_EH_FRAME";
    case PT_GNU_STACK:
      return "GNU_STACK";
    case PT_GNU_RELRO:
      return "GNU_RELRO";
  }
  return absl::StrFormat("type 0x%x", type);
}

// The dynamic entries whose value is an address the loader reads through.
bool IsAddressTag(int64_t tag) {
  switch (tag) {
    case DT_PLTGOT:
    case DT_HASH:
    case DT_STRTAB:
    case DT_SYMTAB:
    case DT_RELA:
    case DT_REL:
    case DT_INIT:
    case DT_FINI:
    case DT_JMPREL:
    case DT_INIT_ARRAY:
    case DT_FINI_ARRAY:
    case DT_PREINIT_ARRAY:
    case DT_GNU_HASH:
    case DT_VERSYM:
    case DT_VERDEF:
    case DT_VERNEED:
      return true;
  }
  return false;
}

std::string TagName(int64_t tag) {
  switch (tag) {
    case DT_PLTGOT:
      return "DT_PLTGOT";
    case DT_HASH:
      return "DT_HASH";
    case DT_STRTAB:
      return "DT_STRTAB";
    case DT_SYMTAB:
      return "DT_SYMTAB";
    case DT_RELA:
      return "DT_RELA";
    case DT_REL:
      return "DT_REL";
    case DT_INIT:
      return "DT_INIT";
    case DT_FINI:
      return "DT_FINI";
    case DT_JMPREL:
      return "DT_JMPREL";
    case DT_INIT_ARRAY:
      return "DT_INIT_ARRAY";
    case DT_FINI_ARRAY:
      return "DT_FINI_ARRAY";
    case DT_PREINIT_ARRAY:
      return "DT_PREINIT_ARRAY";
    case DT_GNU_HASH:
      return "DT_GNU_HASH";
    case DT_VERSYM:
      return "DT_VERSYM";
    case DT_VERDEF:
      return "DT_VERDEF";
    case DT_VERNEED:
      return "DT_VERNEED";
  }
  return absl::StrCat("tag ", tag);
}

// offset + length, saturating instead of wrapping.
uint64_t End(uint64_t offset, uint64_t length) {
  return length > std::numeric_limits<uint64_t>::max() - offset
             ? std::numeric_limits<uint64_t>::max()
             : offset + length;
}

class Checker {
 public:
  Checker(int fd, uint64_t size, const std::string& path)
      : fd_(fd), size_(size), path_(path) {}

  absl::StatusOr<ElfFacts> Run() {
    if (absl::Status s = CheckHeader(); !s.ok()) return s;
    if (absl::Status s = CheckSegments(); !s.ok()) return s;
    if (absl::Status s = CheckSections(); !s.ok()) return s;
    if (absl::Status s = CheckDynamic(); !s.ok()) return s;
    return facts_;
  }

 private:
  absl::Status Fail(std::string_view message) const {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load plugin '", path_,
                     "': ", absl::string_view(message.data(), message.size())));
  }
  absl::Status Truncated(std::string_view what, uint64_t end) const {
    return Fail(absl::StrCat(
        "the file is truncated: ", absl::string_view(what.data(), what.size()),
        " ends at byte ", end, " but the file has ", size_,
        " bytes; was it copied while being written?"));
  }
  absl::Status Corrupt(std::string_view what) const {
    return Fail(absl::StrCat("it is not a valid ELF shared library: ",
                             absl::string_view(what.data(), what.size())));
  }

  bool InFile(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }

  // Reads `n` bytes at `offset`. A short read means the file shrank after
  // its size was taken: reported as truncated.
  absl::Status Read(uint64_t offset, void* out, size_t n,
                    std::string_view what) const {
    char* p = static_cast<char*>(out);
    size_t done = 0;
    while (done < n) {
      const ssize_t got =
          pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        return Fail(
            absl::StrCat("cannot read the file: ", std::strerror(errno)));
      }
      if (got == 0) {
        return Fail(absl::StrCat(
            "the file is truncated: it shrank to ", offset + done,
            " bytes while ", absl::string_view(what.data(), what.size()),
            " was read; was it copied while being written?"));
      }
      done += static_cast<size_t>(got);
    }
    return absl::OkStatus();
  }

  template <typename T>
  absl::Status ReadTable(uint64_t offset, uint64_t count, std::vector<T>* out,
                         std::string_view what) const {
    // InFile was checked by the caller, so count * sizeof(T) <= size_.
    out->resize(static_cast<size_t>(count));
    if (count == 0) return absl::OkStatus();
    return Read(offset, out->data(), static_cast<size_t>(count) * sizeof(T),
                what);
  }

  absl::Status CheckHeader() {
    static constexpr unsigned char kMagic[SELFMAG] = {ELFMAG0, ELFMAG1, ELFMAG2,
                                                      ELFMAG3};
    unsigned char magic[SELFMAG] = {};
    const size_t have = static_cast<size_t>(std::min<uint64_t>(size_, SELFMAG));
    if (absl::Status s = Read(0, magic, have, "the ELF header"); !s.ok()) {
      return s;
    }
    if (std::memcmp(magic, kMagic, have) != 0) {
      return Fail(
          "it is not a shared library: it does not start with the ELF magic "
          "number (\\x7fELF)");
    }
    if (size_ == 0) {
      return Fail(
          "the file is truncated: it is empty; was it copied while "
          "being written?");
    }
    if (size_ < sizeof(Ehdr)) {
      return Fail(absl::StrCat("the file is truncated: it has ", size_,
                               " bytes, fewer than the ", sizeof(Ehdr),
                               " of an ELF header; was it copied while being "
                               "written?"));
    }
    if (absl::Status s = Read(0, &ehdr_, sizeof ehdr_, "the ELF header");
        !s.ok()) {
      return s;
    }
    const unsigned char elf_class = ehdr_.e_ident[EI_CLASS];
    if (elf_class != kHostClass) {
      return Fail(absl::StrCat("it was built for ",
                               elf_class == ELFCLASS32 ? "32-bit"
                               : elf_class == ELFCLASS64
                                   ? "64-bit"
                                   : "an unknown ELF class",
                               " code, but this host is ",
                               kHostClass == ELFCLASS64 ? "64-bit" : "32-bit"));
    }
    if (ehdr_.e_ident[EI_DATA] != kHostData) {
      return Fail(absl::StrCat(
          "it was built for ",
          ehdr_.e_ident[EI_DATA] == ELFDATA2MSB   ? "big-endian"
          : ehdr_.e_ident[EI_DATA] == ELFDATA2LSB ? "little-endian"
                                                  : "an unknown byte order",
          " code, but this host is ",
          kHostData == ELFDATA2LSB ? "little-endian" : "big-endian"));
    }
    if (ehdr_.e_ident[EI_VERSION] != EV_CURRENT ||
        ehdr_.e_version != EV_CURRENT) {
      return Corrupt(
          absl::StrCat("unknown ELF version ", ehdr_.e_ident[EI_VERSION]));
    }
    if (ehdr_.e_type != ET_DYN) {
      const char* kind = ehdr_.e_type == ET_EXEC  ? "an executable"
                         : ehdr_.e_type == ET_REL ? "an object file"
                         : ehdr_.e_type == ET_CORE
                             ? "a core dump"
                             : "an ELF file of an unknown type";
      return Fail(absl::StrCat("it is not a shared library: it is ", kind,
                               "; build plugins with -shared (hs_add_plugin "
                               "does)"));
    }
    if (kHostMachine != EM_NONE && ehdr_.e_machine != kHostMachine) {
      return Fail(
          absl::StrCat("it was built for ", MachineName(ehdr_.e_machine),
                       ", but this host is ", MachineName(kHostMachine)));
    }
    if (ehdr_.e_ehsize != sizeof(Ehdr)) {
      return Corrupt(absl::StrCat("the ELF header says it has ", ehdr_.e_ehsize,
                                  " bytes instead of ", sizeof(Ehdr)));
    }
    if (ehdr_.e_shoff != 0 && ehdr_.e_shentsize != sizeof(Shdr)) {
      return Corrupt(absl::StrCat("section header entries of ",
                                  ehdr_.e_shentsize, " bytes instead of ",
                                  sizeof(Shdr)));
    }
    phnum_ = ehdr_.e_phnum;
    if (phnum_ == PN_XNUM) {
      if (ehdr_.e_shoff == 0) {
        return Corrupt(
            "the program header count is in section 0, but there "
            "are no sections");
      }
      if (absl::Status s = ReadSection0(); !s.ok()) return s;
      phnum_ = section0_.sh_info;
    }
    return absl::OkStatus();
  }

  // Section 0, which holds the real counts when they do not fit the header.
  absl::Status ReadSection0() {
    if (!InFile(ehdr_.e_shoff, sizeof(Shdr))) {
      return Truncated("the section header table",
                       End(ehdr_.e_shoff, sizeof(Shdr)));
    }
    return Read(ehdr_.e_shoff, &section0_, sizeof section0_,
                "the section header table");
  }

  absl::Status CheckSegments() {
    if (phnum_ == 0) return Corrupt("it has no program headers");
    if (ehdr_.e_phentsize != sizeof(Phdr)) {
      return Corrupt(absl::StrCat("program header entries of ",
                                  ehdr_.e_phentsize, " bytes instead of ",
                                  sizeof(Phdr)));
    }
    if (phnum_ > (size_ / sizeof(Phdr)) ||
        !InFile(ehdr_.e_phoff, phnum_ * sizeof(Phdr))) {
      return Truncated(
          "the program header table",
          End(ehdr_.e_phoff,
              phnum_ > std::numeric_limits<uint64_t>::max() / sizeof(Phdr)
                  ? std::numeric_limits<uint64_t>::max()
                  : phnum_ * sizeof(Phdr)));
    }
    if (absl::Status s = ReadTable(ehdr_.e_phoff, phnum_, &phdrs_,
                                   "the program header table");
        !s.ok()) {
      return s;
    }
    bool any_load = false;
    for (size_t i = 0; i < phdrs_.size(); ++i) {
      const Phdr& p = phdrs_[i];
      const std::string name =
          absl::StrCat("segment ", i, " (", SegmentType(p.p_type), ")");
      if (p.p_filesz > 0 && !InFile(p.p_offset, p.p_filesz)) {
        return Truncated(name, End(p.p_offset, p.p_filesz));
      }
      if (p.p_type == PT_LOAD) {
        any_load = true;
        if (p.p_filesz > p.p_memsz) {
          return Corrupt(absl::StrCat(name, " has more bytes in the file (",
                                      p.p_filesz, ") than in memory (",
                                      p.p_memsz, ")"));
        }
      }
      if (p.p_type == PT_DYNAMIC) dynamic_ = &p;
    }
    if (!any_load) return Corrupt("it has no loadable (LOAD) segment");
    if (dynamic_ == nullptr) {
      return Fail("it is not a shared library: it has no dynamic section");
    }
    return absl::OkStatus();
  }

  // The section's name from the section name table, or "" when that table
  // or the name is unusable (only used in messages).
  std::string SectionName(const Shdr& s) const {
    const uint32_t index =
        ehdr_.e_shstrndx == SHN_XINDEX ? shdrs_[0].sh_link : ehdr_.e_shstrndx;
    if (index == SHN_UNDEF || index >= shdrs_.size()) return "";
    const Shdr& names = shdrs_[index];
    if (names.sh_type != SHT_STRTAB || s.sh_name >= names.sh_size ||
        !InFile(names.sh_offset, names.sh_size)) {
      return "";
    }
    char buf[64] = {};
    const uint64_t n =
        std::min<uint64_t>(sizeof buf - 1, names.sh_size - s.sh_name);
    if (!Read(names.sh_offset + s.sh_name, buf, static_cast<size_t>(n), "")
             .ok()) {
      return "";
    }
    return std::string(buf, strnlen(buf, static_cast<size_t>(n)));
  }

  absl::Status CheckSections() {
    if (ehdr_.e_shoff == 0) return absl::OkStatus();
    shnum_ = ehdr_.e_shnum;
    if (shnum_ == 0) {
      if (absl::Status s = ReadSection0(); !s.ok()) return s;
      shnum_ = section0_.sh_size;
    }
    if (shnum_ > size_ / sizeof(Shdr) ||
        !InFile(ehdr_.e_shoff, shnum_ * sizeof(Shdr))) {
      return Truncated(
          "the section header table",
          End(ehdr_.e_shoff,
              shnum_ > std::numeric_limits<uint64_t>::max() / sizeof(Shdr)
                  ? std::numeric_limits<uint64_t>::max()
                  : shnum_ * sizeof(Shdr)));
    }
    if (absl::Status s = ReadTable(ehdr_.e_shoff, shnum_, &shdrs_,
                                   "the section header table");
        !s.ok()) {
      return s;
    }
    for (size_t i = 0; i < shdrs_.size(); ++i) {
      const Shdr& s = shdrs_[i];
      if (s.sh_type == SHT_NOBITS || s.sh_type == SHT_NULL || s.sh_size == 0) {
        continue;
      }
      if (!InFile(s.sh_offset, s.sh_size)) {
        const std::string name = SectionName(s);
        return Truncated(absl::StrCat("section ", i, name.empty() ? "" : " (",
                                      name, name.empty() ? "" : ")"),
                         End(s.sh_offset, s.sh_size));
      }
    }
    return absl::OkStatus();
  }

  // The PT_LOAD segment whose memory holds [address, address + length), or
  // null. With `in_file`, the range must also be backed by file bytes.
  const Phdr* Segment(uint64_t address, uint64_t length, bool in_file) const {
    for (const Phdr& p : phdrs_) {
      if (p.p_type != PT_LOAD) continue;
      const uint64_t span = in_file ? p.p_filesz : p.p_memsz;
      if (address >= p.p_vaddr && address - p.p_vaddr <= span &&
          length <= span - (address - p.p_vaddr) &&
          (length > 0 || address - p.p_vaddr < span)) {
        return &p;
      }
    }
    return nullptr;
  }

  absl::Status CheckDynamic() {
    const uint64_t count = dynamic_->p_filesz / sizeof(Dyn);
    if (absl::Status s =
            ReadTable(dynamic_->p_offset, count, &dyns_, "the dynamic section");
        !s.ok()) {
      return s;
    }
    uint64_t strtab = 0, strsz = 0;
    bool has_strtab = false;
    std::vector<uint64_t> names;  // DT_NEEDED, DT_RPATH, DT_RUNPATH
    bool terminated = false;
    for (const Dyn& d : dyns_) {
      const int64_t tag = d.d_tag;
      if (tag == DT_NULL) {
        terminated = true;
        break;
      }
      if (IsAddressTag(tag) && Segment(d.d_un.d_ptr, 0, false) == nullptr) {
        return Corrupt(absl::StrCat("the dynamic entry ", TagName(tag),
                                    " points outside every loaded segment"));
      }
      if (tag == DT_STRTAB) {
        strtab = d.d_un.d_ptr;
        has_strtab = true;
      } else if (tag == DT_STRSZ) {
        strsz = d.d_un.d_val;
      } else if (tag == DT_NEEDED || tag == DT_RPATH || tag == DT_RUNPATH) {
        names.push_back(d.d_un.d_val);
      }
    }
    if (!terminated) {
      return Corrupt("the dynamic section has no DT_NULL terminator");
    }
    if (!has_strtab) {
      return Corrupt("the dynamic section has no string table (DT_STRTAB)");
    }
    const Phdr* segment = Segment(strtab, strsz, true);
    if (segment == nullptr) {
      return Corrupt(absl::StrCat("the dynamic string table (", strsz,
                                  " bytes) is not inside the file bytes of a "
                                  "loaded segment"));
    }
    const uint64_t offset = segment->p_offset + (strtab - segment->p_vaddr);
    for (uint64_t name : names) {
      if (name >= strsz) {
        return Corrupt(
            "a library name or search path lies outside the "
            "dynamic string table");
      }
      std::string text(
          static_cast<size_t>(std::min<uint64_t>(strsz - name, 4096)), '\0');
      if (absl::Status s =
              Read(offset + name, text.data(), text.size(), "a library name");
          !s.ok()) {
        return s;
      }
      text.resize(strnlen(text.data(), text.size()));
      if (text.find("$ORIGIN") != std::string::npos ||
          text.find("${ORIGIN}") != std::string::npos) {
        facts_.uses_origin = true;
      }
    }
    return absl::OkStatus();
  }

  const int fd_;
  const uint64_t size_;
  const std::string& path_;
  Ehdr ehdr_{};
  Shdr section0_{};
  uint64_t phnum_ = 0;
  uint64_t shnum_ = 0;
  std::vector<Phdr> phdrs_;
  std::vector<Shdr> shdrs_;
  std::vector<Dyn> dyns_;
  const Phdr* dynamic_ = nullptr;
  ElfFacts facts_;
};

}  // namespace

absl::StatusOr<ElfFacts> CheckElfSharedObject(int fd, uint64_t size,
                                              const std::string& path) {
  return Checker(fd, size, path).Run();
}

}  // namespace healthscore::engine::plugin_host
