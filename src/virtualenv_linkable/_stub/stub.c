/*
 * venvlink's resolving stub.
 *
 * It stands in a linkable venv's bin/ as each interpreter entry (python, python3,
 * python3.X, pypy3 ...). CPython looks for pyvenv.cfg only beside the path it was
 * started as, so a symlink to a venv's python elsewhere runs the base interpreter
 * without the venv. This stub walks the chain of symlinks it was started through
 * until it finds a pyvenv.cfg, then execs the real interpreter with an argv[0]
 * inside that venv, so that CPython sees itself inside it.
 *
 * docs/walk.rst specifies the walk; this file is its only implementation. Run as
 * `stub --venvlink-explain` or `stub --venvlink-explain-paths PATH...`, it prints
 * what it would do instead of doing it: that is how the venvlink command and
 * tests/walk_cases.json ask it (an argument, which no environment can leak into
 * every start). libc only, one file; every failing call says what failed and on
 * which file.
 */
#ifdef __linux__
#define _GNU_SOURCE /* O_PATH, which glibc declares only here (musl with _XOPEN_SOURCE too) */
#endif
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif
#ifdef __linux__
#include <sys/auxv.h>
#include <sys/vfs.h>
#endif

#ifndef VENVLINK_VERSION
#define VENVLINK_VERSION "dev"
#endif

#define MAX_HOPS 40       /* the kernel's own limit for one path (ELOOP) */
#define MAX_LEVELS 8      /* venvs whose interpreter is a stub of another venv, before we call it a loop */
#define MAX_CFG 32767     /* CPython 3.11+ refuse a pyvenv.cfg of 32 KiB or more; ours are a few hundred bytes */
#define HEAD 4096         /* a stub carries its identity in its first HEAD bytes */
#define EXIT_NOT_FOUND 127
#define EXIT_CANNOT_EXEC 126
#define IDENTITY "venvlink resolving stub"
#define EXPLAIN "--venvlink-explain"             /* as the first argument: explain this start */
#define EXPLAIN_PATHS "--venvlink-explain-paths" /* explain a start through each path that follows */
#define MOVE_IT "to move the venv to another Python of its version: venvlink convert --python PYTHON VENV (venvlink doctor finds one)"
#define MISSING "interpreter %s named by %s in %s does not exist; " \
    "the Python this venv was made from was moved or removed; " MOVE_IT

/*
 * The stub's identity, version and recorded interpreter, as an ELF note: linkers
 * put notes right after the program headers, so the identity lies within the
 * first HEAD bytes, where one read finds it (here, and in venvlink's is_stub).
 * The creator writes the interpreter into `recorded` of each copy it puts in a
 * venv; a copy that has left every venv runs it, as a copied python would (read
 * from the file, not from memory: explain mode asks about other copies).
 *
 * Mach-O has no notes: the same bytes are the section __TEXT,__venvlink, which no
 * linker puts in the first HEAD bytes (zig orders __TEXT's code sections first,
 * about 8 KiB here; Apple's ld64 pushes the sections to the end of the segment's
 * first page). The load commands, which are there, say where it is: read_head
 * reads a Mach-O file from that section on (macho_note; _macho.py does the same).
 * descsz says how long `recorded` is: PATH_MAX is 4096 on Linux, 1024 on macOS.
 */
struct identity_note {
    uint32_t namesz, descsz, type;
    char name[12];
    char identity[32], version[32], recorded[PATH_MAX];
};
#ifdef __APPLE__
#define NOTE_SECTION "__TEXT,__venvlink"
#else
#define NOTE_SECTION ".note.venvlink"
#endif
__attribute__((section(NOTE_SECTION), aligned(4), used))
static const struct identity_note note = {
    9, 64 + PATH_MAX, 1, "venvlink", IDENTITY, VENVLINK_VERSION, ""};

/* Who may have written a pyvenv.cfg the walk found: see open_cfg and docs/failures.rst. */
enum trust {
    CPYTHON,         /* beside the path run (CPython would read it), or in the venv the stub really lives in */
    OWN_IF_ABOVE,    /* one level above the stub as written: CPYTHON if that is the physical parent, see walk */
    MIDDLE_HOP,      /* beside a link in the middle of the chain: only this walk reads it */
    LAST_AS_WRITTEN, /* beside the stub's path as a directory link spells it, not where the stub lives */
};
static struct stat above; /* for OWN_IF_ABOVE: the directory the stub's own pyvenv.cfg must be in */
enum found { ALONG_CHAIN, OWN_VENV, RECORDED };

static int debug, explain;
static char chain[4096]; /* "a -> b -> c", for the message when no pyvenv.cfg is found */
static int chain_cut;

static void put(int fd, const char *text, size_t len)
{
    /* stdout or stderr may be closed; there is nobody else to tell */
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* In explain mode, one field of the record: key=value and a NUL, since a path may hold any other byte. */
static void field(const char *key, const char *value)
{
    if (!explain)
        return;
    put(STDOUT_FILENO, key, strlen(key));
    put(STDOUT_FILENO, "=", 1);
    put(STDOUT_FILENO, value, strlen(value) + 1);
}

static void vsay(char *line, size_t size, const char *fmt, va_list ap)
{
    int n = snprintf(line, size, "venvlink: ");
    n += vsnprintf(line + n, size - (size_t)n, fmt, ap);
    if (n >= (int)size - 1)
        n = (int)size - 2;
    line[n++] = '\n';
    line[n] = '\0';
    put(STDERR_FILENO, line, (size_t)n);
}

static void trace(const char *fmt, ...)
{
    char line[PATH_MAX * 3];
    va_list ap;
    if (!debug)
        return;
    va_start(ap, fmt);
    vsay(line, sizeof line, fmt, ap);
    va_end(ap);
}

#ifdef VENVLINK_FUZZ
#include <setjmp.h>
jmp_buf venvlink_fuzz_exit; /* a fuzz harness survives die(): see fuzz/ */
#endif
#ifdef VENVLINK_COVERAGE /* .ci/stub-coverage: _exit and execv skip the exit handler that writes gcov's counters */
void __gcov_dump(void);
#define write_coverage() __gcov_dump()
#else
#define write_coverage() ((void)0)
#endif

static void die(int status, const char *fmt, ...)
{
    char line[PATH_MAX * 3], code[8];
    va_list ap;
    va_start(ap, fmt);
    vsay(line, sizeof line, fmt, ap);
    va_end(ap);
    line[strlen(line) - 1] = '\0';
    field("error", line + strlen("venvlink: "));
    snprintf(code, sizeof code, "%d", status);
    field("status", code);
#ifdef VENVLINK_FUZZ
    longjmp(venvlink_fuzz_exit, status);
#endif
    write_coverage();
    _exit(status);
}

/* Drop "." components and repeated slashes of an absolute path, in place. They never change what a path
 * names; ".." does when a directory is a link, so canonical() leaves that to the kernel. */
static void fold(char *path)
{
    char *from = path, *to = path;
    while (*from) {
        if (from[0] == '/' && (from[1] == '/' || (from[1] == '.' && (from[2] == '/' || !from[2])))) {
            from += from[1] == '/' ? 1 : 2;
            continue;
        }
        *to++ = *from++;
    }
    if (to == path)
        *to++ = '/';
    *to = '\0';
}

/* out = dir + "/" + name, folded; dies if it does not fit, since a cut path names another file */
static void join(char *out, const char *dir, const char *name)
{
    size_t d = strlen(dir), n = strlen(name);
    if (d + 1 + n >= PATH_MAX)
        die(EXIT_NOT_FOUND, "path too long: %s/%s", dir, name);
    memmove(out + d + 1, name, n + 1);
    memmove(out, dir, d);
    out[d] = '/';
    fold(out);
}

/* out = the directory part of path (path is absolute); "/" stays "/" */
static void dir_of(char *out, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    memcpy(out, path, len);
    out[len] = '\0';
}

static const char *base_of(const char *path)
{
    return strrchr(path, '/') + 1;
}

/* out = path made absolute against the cwd, folded */
static void make_absolute(char *out, const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/') {
        if (strlen(path) >= PATH_MAX)
            die(EXIT_NOT_FOUND, "path too long: %s", path);
        strcpy(out, path);
        fold(out);
        return;
    }
    if (!getcwd(cwd, sizeof cwd))
        die(EXIT_NOT_FOUND, "cannot find the current directory to start from %s: %s", path, strerror(errno));
    join(out, cwd, path);
}

/* A ".." component names the parent of what the directory before it really is. */
static int has_dotdot(const char *path)
{
    for (const char *s = strstr(path, "/.."); s; s = strstr(s + 1, "/.."))
        if (s[3] == '/' || !s[3])
            return 1;
    return 0;
}

/*
 * The path as the kernel takes it: with "..", resolve the directory part
 * physically and keep the last name (a venv's bin/python is itself a link, which
 * must not be followed here). Without "..", the path stays as written: CPython
 * takes the directories of its argv[0] as written too.
 */
static void canonical(char *path)
{
    char dir[PATH_MAX], real[PATH_MAX], name[PATH_MAX];
    if (!has_dotdot(path))
        return;
    dir_of(dir, path);
    strcpy(name, base_of(path));
    if (!strcmp(name, "..")) /* a link to "x/.." names a directory: resolve it all */
        strcpy(dir, path), strcpy(name, "");
    if (!realpath(dir, real))
        die(EXIT_NOT_FOUND, "cannot resolve %s: %s", dir, strerror(errno));
    if (*name)
        join(path, real, name);
    else
        strcpy(path, real);
}

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum place { NONE, BESIDE, ABOVE };

/* pyvenv.cfg where CPython's getpath and site.py look: beside P, then one level up. */
static enum place find_cfg(char *cfg, const char *p)
{
    char dir[PATH_MAX], parent[PATH_MAX];
    dir_of(dir, p);
    join(cfg, dir, "pyvenv.cfg");
    if (is_regular_file(cfg))
        return BESIDE;
    dir_of(parent, dir);
    join(cfg, parent, "pyvenv.cfg");
    return is_regular_file(cfg) ? ABOVE : NONE;
}

static uint32_t le32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

/*
 * Where the section __TEXT,__venvlink starts in the Mach-O file whose first n
 * bytes are head, from its load commands (a 64-bit little-endian Mach-O file, as
 * arm64 and x86_64 macOS run); -1 if the file is not one or has no such section.
 */
static off_t macho_note(const char *head, ssize_t n)
{
    const char *at = head + 32, *end = head + n;
    uint32_t commands, size, i;
    if (n < 32 || memcmp(head, "\xcf\xfa\xed\xfe", 4)) /* MH_MAGIC_64 */
        return -1;
    for (commands = le32(head + 16); commands > 0 && end - at >= 8; commands--, at += size) {
        size = le32(at + 4);
        if (size < 8 || size > (size_t)(end - at))
            return -1;
        /* LC_SEGMENT_64: the segment's name at 8, nsects at 64, then its section_64s of 80 bytes each, the
         * section's name first and its file offset at 48 */
        if (le32(at) == 0x19 && size >= 72 && !strncmp(at + 8, "__TEXT", 16))
            for (i = 0; i < le32(at + 64) && 72 + 80 * (i + 1) <= size; i++)
                if (!strncmp(at + 72 + 80 * i, "__venvlink", 16))
                    return (off_t)le32(at + 72 + 80 * i + 48);
    }
    return -1;
}

/*
 * A descriptor to read the regular file name in dirfd (links followed); -1 and errno, NOT_REGULAR, or EMPTY. A
 * start opens as exec will: what it runs is its own choice. In explain mode, whose caller may ask about another
 * user's path as root and runs nothing, nothing but a regular file is ever opened: opening a device can act (a
 * watchdog starts counting), and a FIFO's writer would see a reader. Nor is a file read whose size is 0 (EMPTY:
 * it reads as empty), or one of the kernel's file systems: procfs files say 0, sysfs files 4096, and reading one
 * can take what others wait for (/proc/kmsg drains the kernel's log), block, or clear a device's state. Linux checks the file through an O_PATH descriptor, which opens nothing, and reopens
 * that very file; elsewhere (or without /proc) a check before the open and one after it leave a race only a
 * device's open can lose.
 */
#define NOT_REGULAR (-2)
#define EMPTY (-3)
#ifdef O_PATH
/* Whether the file lies in one of the kernel's own file systems (procfs, sysfs, debugfs, tracefs, securityfs,
 * configfs, cgroup, efivarfs), whose files say what size they like, and whose reads can act. */
static int kernels(int fd)
{
    static const unsigned long magics[] = {0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x62656570,
                                           0x63677270, 0x27e0eb, 0xde5e81e4};
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0)
        return 1;
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
        if ((unsigned long)fs.f_type == magics[i])
            return 1;
    return 0;
}
#endif

static int open_regular(int dirfd, const char *name)
{
    struct stat before, after;
    int fd;
    if (!explain)
        return openat(dirfd, name, O_RDONLY | O_NONBLOCK);
#ifdef O_PATH
    char proc[32];
    int pathfd = openat(dirfd, name, O_PATH);
    if (pathfd < 0)
        return -1;
    if (fstat(pathfd, &before) != 0) {
        fd = -1;
    } else if (!S_ISREG(before.st_mode) || before.st_size == 0 || kernels(pathfd)) {
        fd = S_ISREG(before.st_mode) && before.st_size == 0 ? EMPTY : NOT_REGULAR;
    } else {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", pathfd);
        fd = open(proc, O_RDONLY | O_NONBLOCK);
    }
    close(pathfd);
    if (fd != -1 || errno != ENOENT)
        return fd; /* else there is no /proc: open, then check, as where there is no O_PATH */
#else
    if (fstatat(dirfd, name, &before, 0) != 0)
        return -1;
    if (!S_ISREG(before.st_mode) || before.st_size == 0)
        return S_ISREG(before.st_mode) ? EMPTY : NOT_REGULAR;
#endif
    fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK);
    if (fd >= 0 && (fstat(fd, &after) != 0 || after.st_dev != before.st_dev || after.st_ino != before.st_ino)) {
        close(fd);
        return NOT_REGULAR;
    }
    return fd;
}

/*
 * The start of the file at path, up to size bytes; -1 if it cannot be read (missing: it does not exist). Of a
 * Mach-O stub, the bytes from its identity note on: where an ELF stub's first bytes hold it.
 */
static ssize_t read_head(const char *path, char *buf, size_t size, int *missing)
{
    ssize_t n;
    off_t at;
    int fd = open_regular(AT_FDCWD, path); /* O_NONBLOCK: a FIFO planted as the interpreter must not hang us */
    *missing = fd == -1 && (errno == ENOENT || errno == ENOTDIR);
    if (fd == EMPTY)
        return 0;
    if (fd < 0)
        return -1;
    n = read(fd, buf, size);
    at = macho_note(buf, n);
    if (at >= 0)
        n = pread(fd, buf, size, at);
    close(fd);
    return n;
}

/* Where a stub's identity note starts in its first HEAD bytes, or NULL: the file is not a stub. */
static const char *identity_in(const char *head, ssize_t n)
{
    const char *end = head + (n < HEAD ? n : HEAD), *at = head;
    while (end - at >= (ssize_t)sizeof IDENTITY) {
        /* memchr skips a word at a time: this runs before every exec, on the interpreter's first 4 KiB */
        at = memchr(at, IDENTITY[0], (size_t)(end - at) - sizeof IDENTITY + 1);
        if (!at || !memcmp(at, IDENTITY, sizeof IDENTITY))
            return at;
        at++;
    }
    return NULL;
}

/* What an interpreter file is, from its first HEAD bytes: read once before every exec. */
enum kind { OTHER, STUB, SCRIPT, ABSENT };

static enum kind kind_of(const char *path)
{
    char head[HEAD];
    int missing;
    ssize_t n = read_head(path, head, sizeof head, &missing);
    if (n < 0)
        return missing ? ABSENT : OTHER;
    if (identity_in(head, n))
        return STUB;
    return n >= 2 && head[0] == '#' && head[1] == '!' ? SCRIPT : OTHER;
}

/* out = the interpreter recorded in the stub at path (the file the chain ended at), or "". */
static void recorded_in(const char *path, char *out)
{
    static char head[HEAD + 64 + PATH_MAX];
    int missing;
    ssize_t n = read_head(path, head, sizeof head, &missing);
    const char *identity = identity_in(head, n);
    const char *slot = identity ? identity + offsetof(struct identity_note, recorded) -
        offsetof(struct identity_note, identity) : NULL;
    out[0] = '\0';
    if (slot && slot + PATH_MAX <= head + n && memchr(slot, '\0', PATH_MAX))
        strcpy(out, slot);
}

#ifdef __linux__
/* Whether the file the kernel was asked to run is a #! script, whose interpreter we are. */
static int is_script(const char *path)
{
    char magic[2];
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    ssize_t n = fd < 0 ? 0 : read(fd, magic, sizeof magic);
    if (fd >= 0)
        close(fd);
    return n == 2 && magic[0] == '#' && magic[1] == '!';
}

/* Whether path names a file descriptor (what fexecve runs: /dev/fd/N, /proc/self/fd/N) that is gone. */
static int closed_descriptor(const char *path)
{
    struct stat st;
    return (!strncmp(path, "/dev/fd/", 8) || !strncmp(path, "/proc/self/fd/", 14)) && lstat(path, &st) != 0;
}

/*
 * Step 1: the start path P, the path the caller really ran. The kernel records it
 * (AT_EXECFN), so argv[0], which a caller sets to anything, serves only when that
 * path is a #! script: then we are its interpreter, and the kernel wrote argv[0]
 * itself, from the #! line. Neither argv[0] nor /proc is needed otherwise. A
 * start through a close-on-exec descriptor (fexecve) leaves a /dev/fd/N that is
 * gone: then the stub runs its own venv, as a copied python runs itself, which
 * only /proc can tell. Returns whether we run as a #! script's interpreter.
 */
static int start_path(char *out, int argc, char **argv)
{
    const char *argv0 = argc > 0 ? argv[0] : NULL;
    const char *execfn = (const char *)getauxval(AT_EXECFN);
    ssize_t n;
    if (!execfn || !*execfn)
        die(EXIT_NOT_FOUND, "the kernel did not say which file it ran (no AT_EXECFN)");
    if (closed_descriptor(execfn)) {
        n = readlink("/proc/self/exe", out, PATH_MAX - 1);
        if (n <= 0 || n >= PATH_MAX - 1)
            die(EXIT_NOT_FOUND, "started from %s, a file descriptor closed on exec, and /proc/self/exe cannot "
                "be read (%s): no way to tell which venv this is; run the stub by its path", execfn,
                n < 0 ? strerror(errno) : "too long");
        out[n] = '\0';
        return 0;
    }
    if (argv0 && *argv0 && strcmp(argv0, execfn) && is_script(execfn)) {
        make_absolute(out, argv0);
        return 1;
    }
    make_absolute(out, execfn);
    return 0;
}
#elif defined(__APPLE__)
/* As execvp would find a bare name: the first executable regular file on PATH. */
static int search_path(char *out, const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/bin:/usr/bin";
    for (;; path++) {
        size_t len = strcspn(path, ":");
        char candidate[PATH_MAX];
        if (len + strlen(name) + 3 < PATH_MAX) {
            snprintf(candidate, sizeof candidate, "%.*s/%s", (int)len, len ? path : ".", name);
            if (access(candidate, X_OK) == 0 && is_regular_file(candidate)) {
                make_absolute(out, candidate);
                return 1;
            }
        }
        path += len;
        if (!*path)
            return 0;
    }
}

/* Step 1 on macOS (untested: venvlink's CI runs on Linux): argv[0] when it leads to this very file. */
static int start_path(char *out, int argc, char **argv)
{
    char self[PATH_MAX], found[PATH_MAX];
    uint32_t size = sizeof self;
    struct stat a, b;
    const char *argv0 = argc > 0 ? argv[0] : NULL;
    if (_NSGetExecutablePath(self, &size) != 0)
        die(EXIT_NOT_FOUND, "cannot find the path of this program");
    make_absolute(out, self);
    if (argv0 && *argv0 && (strchr(argv0, '/') ? (make_absolute(found, argv0), 1) : search_path(found, argv0)) &&
        stat(found, &a) == 0 && stat(self, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
        strcpy(out, found);
    return 0;
}
#else
#error "venvlink's stub knows how to find its start path on Linux and macOS only"
#endif

static void add_to_chain(const char *p)
{
    size_t used = strlen(chain);
    if (chain_cut)
        return;
    /* Each addition leaves at least 12 bytes free, room for the " -> ..." that marks a cut chain. */
    chain_cut = used + strlen(p) + 16 > sizeof chain;
    strcat(strcat(chain, used ? " -> " : ""), chain_cut ? "..." : p);
}

/*
 * Step 2: follow P one link at a time until a pyvenv.cfg turns up; P becomes the
 * hop where it did. The pyvenv.cfg beside the path the caller ran is one CPython
 * would read too, and so is the one of the venv the stub really lives in; one
 * beside any other hop is read only by this walk, and trusted less. At the end of
 * the chain (the stub itself), a pyvenv.cfg beside it is in the stub's own
 * directory; one a level up is the venv's only if that is the physical parent
 * of the stub's directory: through a directory link (/srv/shared/vbin -> venv/bin)
 * the lexical parent is the link's directory, which is not where the stub lives.
 * open_cfg compares, on the directory it reads from.
 */
static enum trust walk(char *p, char *cfg, enum found *found, int in_record)
{
    chain[0] = '\0';
    chain_cut = 0;
    for (int hop = 0;; hop++) {
        char target[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
        ssize_t n;
        canonical(p);
        trace("hop %d: %s", hop, p);
        if (in_record)
            field("hop", p);
        add_to_chain(p);
        enum place place = find_cfg(cfg, p);
        if (place && hop == 0)
            return CPYTHON;
        n = readlink(p, target, sizeof target - 1);
        if (n < 0 && errno != EINVAL)
            die(EXIT_NOT_FOUND, "cannot read the link %s: %s", p, strerror(errno));
        if (place && n >= 0)
            return MIDDLE_HOP;
        if (place == BESIDE)
            return CPYTHON;
        if (place == ABOVE) {
            dir_of(dir, p);
            join(real, dir, "..");
            return stat(real, &above) == 0 ? OWN_IF_ABOVE : LAST_AS_WRITTEN;
        }
        if (n < 0) {
            /* The end of the chain, with no pyvenv.cfg: the venv that holds this file,
             * reached through a link to its directory (ln -s venv/bin ~/vbin). */
            if (!realpath(p, real))
                die(EXIT_NOT_FOUND, "cannot resolve %s: %s", p, strerror(errno));
            if (strcmp(real, p) && find_cfg(cfg, real)) {
                trace("the chain ends at %s, in the venv of %s", p, real);
                strcpy(p, real);
                *found = OWN_VENV;
                return CPYTHON;
            }
            *found = RECORDED;
            return CPYTHON;
        }
        if (hop == MAX_HOPS) /* as the kernel: the 40th link is followed, a 41st is a loop */
            die(EXIT_NOT_FOUND, "more than %d symlinks from %s; is there a loop?", MAX_HOPS, chain);
        target[n] = '\0';
        if (target[0] == '/') {
            strcpy(p, target);
            fold(p);
        } else {
            dir_of(dir, p);
            join(p, dir, target);
        }
    }
}

/* Step 3: pyvenv.cfg as CPython reads it: key = value, first '=' splits, keys
 * case-insensitive (ASCII), whitespace stripped as str.strip() strips it (Unicode's,
 * \r among it), a UTF-8 BOM skipped (CPython runs such a venv); the first
 * occurrence of a key wins. */
struct cfg {
    char text[MAX_CFG + 1];
    const char *home, *venvlink_executable, *base_executable, *executable;
    const char *version_info, *version_key, *python_version;
    char version[16]; /* "3.X": the first of version_info, version, python-version that has one */
};

/* What site.py and getpath.py (3.11+) strip off keys and values, str.strip(): the characters str.isspace() calls
 * whitespace (tests/test_stub.py holds the list to it), in UTF-8, as both decode the file. */
static const char *const spaces[] = {
    " ", "\t", "\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80",
    "\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
    "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf",
    "\xe2\x81\x9f", "\xe3\x80\x80"};

/* The length of the whitespace character [s, end) starts with (at_end: ends with), or 0. Only a whole encoding
 * counts: a byte that is not UTF-8 decodes to no whitespace (surrogateescape), and none of these starts with a byte
 * that could continue the character before it, so CPython decodes them as they stand. */
static size_t space(const char *s, const char *end, int at_end)
{
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        size_t len = strlen(spaces[i]);
        if ((size_t)(end - s) >= len && !memcmp(at_end ? end - len : s, spaces[i], len))
            return len;
    }
    return 0;
}

/* [s, end) without the whitespace around it, terminated */
static char *strip(char *s, char *end)
{
    size_t len;
    while ((len = space(s, end, 0)))
        s += len;
    while ((len = space(s, end, 1)))
        end -= len;
    *end = '\0';
    return s;
}

static void take_version(struct cfg *c, const char *value)
{
    /* "3.8.18.final.0", "3.8.18" and "3.8" all give "3.8" */
    const char *dot = value ? strchr(value, '.') : NULL;
    size_t len = dot ? strspn(dot + 1, "0123456789") : 0;
    if (c->version[0] || !dot || !len || (size_t)(dot - value) + 1 + len >= sizeof c->version)
        return;
    len += (size_t)(dot - value) + 1;
    memcpy(c->version, value, len);
    c->version[len] = '\0';
}

/* The first `total` bytes of c->text, as a pyvenv.cfg named `path` in messages. */
static void parse_cfg(struct cfg *c, size_t total, const char *path)
{
    char *line = c->text;
    if (memchr(c->text, '\0', total))
        die(EXIT_NOT_FOUND, "%s contains a NUL byte; it is not a pyvenv.cfg", path);
    c->text[total] = '\0';
    c->home = c->venvlink_executable = c->base_executable = c->executable = NULL;
    c->version_info = c->version_key = c->python_version = NULL;
    c->version[0] = '\0';
    if (total >= 3 && !memcmp(line, "\xef\xbb\xbf", 3))
        line += 3;
    while (line < c->text + total) {
        char *end = strchr(line, '\n'), *eq, *key, *value;
        if (!end)
            end = c->text + total;
        *end = '\0';
        eq = strchr(line, '=');
        if (eq) {
            key = strip(line, eq);
            value = strip(eq + 1, end);
            /* ASCII only, though CPython's str.lower() folds Unicode: its one fold of another character to ASCII
             * is the Kelvin sign's (U+212A) to k, and of the keys CPython reads (home; site.py's
             * include-system-site-packages) the stub reads only home, which has no k */
            for (char *k = key; *k; k++)
                if (*k >= 'A' && *k <= 'Z')
                    *k = (char)(*k - 'A' + 'a');
            if (!strcmp(key, "home") && !c->home)
                c->home = value;
            else if (!strcmp(key, "venvlink-executable") && !c->venvlink_executable)
                c->venvlink_executable = value;
            else if (!strcmp(key, "base-executable") && !c->base_executable)
                c->base_executable = value;
            else if (!strcmp(key, "executable") && !c->executable)
                c->executable = value;
            else if (!strcmp(key, "version_info") && !c->version_info)
                c->version_info = value;
            else if (!strcmp(key, "version") && !c->version_key)
                c->version_key = value;
            else if (!strcmp(key, "python-version") && !c->python_version)
                c->python_version = value;
        }
        line = end + 1;
    }
    take_version(c, c->version_info);
    take_version(c, c->version_key);
    take_version(c, c->python_version);
    if (!c->home || !*c->home)
        die(EXIT_NOT_FOUND, "no 'home' key in %s; recreate the venv", path);
}

/* Whether users other than a directory's owner can add to it: every user, or a group in a sticky directory (a
 * drop directory, as /tmp is one for every user), where a member's pyvenv.cfg can sit beside your own files. */
static const char *open_to(const struct stat *st)
{
    if (st->st_mode & S_IWOTH)
        return "every user";
    return (st->st_mode & (S_ISVTX | S_IWGRP)) == (S_ISVTX | S_IWGRP) ? "every member of its group" : NULL;
}

static int foreign(const struct stat *st)
{
    return st->st_uid != 0 && st->st_uid != geteuid();
}

/* Why a pyvenv.cfg only the walk reads may not be trusted, or NULL: another user could have put or changed it. */
static const char *doubt(const struct stat *dir, const struct stat *entry, const struct stat *file, char *why)
{
    const struct stat *items[] = {dir, entry, file};
    const char *names[] = {"its directory", "the link", "it"};
    for (int i = 0; i < 3; i++) {
        if (i == 1 && !S_ISLNK(entry->st_mode))
            continue;
        if (foreign(items[i]))
            snprintf(why, 64, "%s belongs to uid %ld", names[i], (long)items[i]->st_uid);
        else if (i != 1 && (items[i]->st_mode & (S_IWGRP | S_IWOTH)))
            snprintf(why, 64, "%s can be written by other users", names[i]);
        else
            continue;
        return why;
    }
    return NULL;
}

/*
 * Open a pyvenv.cfg with the trust it gets; one line and exit 127 if it gets none.
 * Any pyvenv.cfg: no other user can have put it there or changed it since, so it
 * is not writable by every user, and no other user can add to the hop's directory
 * nor the one above: CPython reads pyvenv.cfg beside argv[0] and one level up, and
 * takes the one above as sys.prefix, whose site-packages it imports (a .pth file
 * there runs). Nor is it a file its directory's owner could not read.
 * One only this walk reads: it, its directory and the link to it belong to you or
 * root, and neither it nor its directory is writable by group or others. fstat
 * and openat in the directory checked: the file checked is the file read.
 */
static int open_cfg(const char *path, enum trust trust, const char *hop)
{
    char dir[PATH_MAX], hop_dir[PATH_MAX], above_hop[PATH_MAX], other_cfg[PATH_MAX], why[64];
    const char *other, *who;
    struct stat dir_st, entry_st, st, other_st;
    int fd, dirfd;
    dir_of(dir, path);
    dir_of(hop_dir, hop);
    dir_of(above_hop, hop_dir);
    other = strcmp(dir, hop_dir) ? hop_dir : above_hop; /* the one of the two not opened below */
    /* closed before exec: no O_CLOEXEC, which costs musl an fcntl */
    dirfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dirfd < 0 || fstat(dirfd, &dir_st) != 0)
        die(EXIT_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    if (trust == OWN_IF_ABOVE)
        trust = dir_st.st_dev == above.st_dev && dir_st.st_ino == above.st_ino ? CPYTHON : LAST_AS_WRITTEN;
    if (fstatat(dirfd, "pyvenv.cfg", &entry_st, AT_SYMLINK_NOFOLLOW) != 0)
        die(EXIT_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    fd = open_regular(dirfd, "pyvenv.cfg");
    if (fd == -1 || (fd >= 0 && fstat(fd, &st) != 0) || (fd == EMPTY && fstatat(dirfd, "pyvenv.cfg", &st, 0) != 0))
        die(EXIT_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    close(dirfd);
    if (fd == NOT_REGULAR || !S_ISREG(st.st_mode))
        die(EXIT_NOT_FOUND, "%s is not a regular file; it is not a pyvenv.cfg", path);
    if (st.st_mode & S_IWOTH)
        die(EXIT_NOT_FOUND, "refusing %s: every user can write it, so anyone could choose the program it starts; "
            "its owner should check it, then run: chmod o-w %s", path, path);
    if (trust == MIDDLE_HOP && doubt(&dir_st, &entry_st, &st, why))
        die(EXIT_NOT_FOUND, "refusing %s: only venvlink's walk reads it, beside %s, a link in the middle of the "
            "chain, and %s; link straight to the venv's bin/python instead", path, hop, why);
    if (trust == LAST_AS_WRITTEN && doubt(&dir_st, &entry_st, &st, why))
        die(EXIT_NOT_FOUND, "refusing %s: only venvlink's walk reads it, beside %s, the stub as a directory link "
            "names it, not where it lives, and %s; link straight to the venv's bin/python instead", path, hop, why);
    if ((who = open_to(&dir_st)) || (stat(other, &other_st) == 0 && (who = open_to(&other_st))))
        die(EXIT_NOT_FOUND, "refusing %s: %s can write %s, where CPython looks for the venv (its pyvenv.cfg, "
            "its site-packages), so anyone could put code there; a venv belongs in a directory only its owner can "
            "write", path, who, open_to(&dir_st) ? dir : other);
    /* Found beside the hop: CPython 3.11+ takes home (where its standard library is) from a pyvenv.cfg one level
     * up first, site.py and 3.8-3.10 from this one; one there is held to the same rule. (Found one level up, there
     * is none beside: the walk looked, and nobody else can add one.) */
    if (other == above_hop) {
        join(other_cfg, other, "pyvenv.cfg");
        if (stat(other_cfg, &other_st) == 0 && S_ISREG(other_st.st_mode) && (other_st.st_mode & S_IWOTH))
            die(EXIT_NOT_FOUND, "refusing %s: every user can write %s, which CPython reads too, so anyone could "
                "choose the program it starts; its owner should check it, then run: chmod o-w %s", path, other_cfg,
                other_cfg);
    }
    /* a link (or hard link) to a file its maker cannot read: what it holds would show in a message to you, */
    if (!(st.st_mode & S_IROTH) && st.st_uid != dir_st.st_uid)
        die(EXIT_NOT_FOUND, "refusing %s: only uid %ld can read it, and its directory belongs to uid %ld; the "
            "venv's owner should give it a pyvenv.cfg of its own", path, (long)st.st_uid, (long)dir_st.st_uid);
    /* ... or one it may not reach (a file readable by all, in a directory only its owner enters) */
    if (S_ISLNK(entry_st.st_mode) && entry_st.st_uid != 0 && entry_st.st_uid != st.st_uid)
        die(EXIT_NOT_FOUND, "refusing %s: it is a link of uid %ld to a file of uid %ld, which uid %ld may not be "
            "able to read; its owner should put a copy there", path, (long)entry_st.st_uid, (long)st.st_uid,
            (long)entry_st.st_uid);
    return fd;
}

static void read_cfg(struct cfg *c, const char *path, enum trust trust, const char *hop)
{
    ssize_t n = 0;
    size_t total = 0;
    int fd = open_cfg(path, trust, hop);
    /* a regular file reads short only at its end: one read() is enough for any pyvenv.cfg */
    while (fd != EMPTY && (n = read(fd, c->text + total, MAX_CFG + 1 - total)) > 0) {
        total += (size_t)n;
        if (total > MAX_CFG)
            die(EXIT_NOT_FOUND, "%s is larger than %d bytes, more than CPython 3.11+ reads; it is not a pyvenv.cfg",
                path, MAX_CFG);
        if ((size_t)n < MAX_CFG + 1 - (total - (size_t)n))
            break;
    }
    if (fd != EMPTY)
        close(fd);
    if (fd != EMPTY && n < 0)
        die(EXIT_NOT_FOUND, "cannot read %s: %s", path, strerror(errno));
    parse_cfg(c, total, path);
}

static int is_executable_file(const char *path)
{
    return access(path, X_OK) == 0 && is_regular_file(path);
}

/*
 * Step 4: the interpreter to exec. A key names it exactly (kind_of's open in
 * find_interpreter checks that it exists, exec the rest); only home/python* are
 * guesses, tried in turn. Returns the key's name, or "home".
 */
static const char *choose(char *out, const struct cfg *c, const char *cfg_path)
{
    static const char *const keys[] = {"venvlink-executable", "base-executable", "executable"};
    const char *values[] = {c->venvlink_executable, c->base_executable, c->executable};
    char name[32];
    for (int i = 0; i < 3; i++) {
        if (!values[i] || !*values[i])
            continue;
        if (values[i][0] != '/')
            die(EXIT_NOT_FOUND, "%s in %s is not an absolute path: %s", keys[i], cfg_path, values[i]);
        make_absolute(out, values[i]);
        return keys[i];
    }
    if (c->home[0] != '/') /* joined as it is, it would name a program in whatever directory the caller is in */
        die(EXIT_NOT_FOUND, "home in %s is not an absolute path: %s", cfg_path, c->home);
    snprintf(name, sizeof name, "python%s", c->version);
    const char *const guesses[] = {name, "python3", "python"};
    for (int i = c->version[0] ? 0 : 1; i < 3; i++) {
        join(out, c->home, guesses[i]);
        if (is_executable_file(out))
            return "home";
    }
    die(EXIT_NOT_FOUND, "no python in %s (home in %s); "
        "the Python this venv was made from was moved or removed; " MOVE_IT, c->home, cfg_path);
    return NULL;
}

/* Step 4, continued: the venv's pyvenv.cfg read, the interpreter chosen. */
static const char *from_cfg(char *target, char *cfg_path, enum trust trust, const char *hop)
{
    static struct cfg cfg;
    trace("pyvenv.cfg: %s", cfg_path);
    field("pyvenv.cfg", cfg_path);
    read_cfg(&cfg, cfg_path, trust, hop);
    return choose(target, &cfg, cfg_path);
}

/*
 * Steps 2-4: from the start path p, the interpreter to exec (target); p becomes
 * the hop where the venv was found. An interpreter that is itself a stub is never
 * exec'd (on 3.8-3.10 a venv made from a linkable venv gets home = <that venv>/bin,
 * and a copy of a stub may be another venv's base): what that stub would run is
 * found in turn, at most MAX_LEVELS deep.
 */
struct choice {
    const char *named_by; /* the pyvenv.cfg key that named the interpreter, "home" or "recorded" */
    enum found found;     /* how the start path's walk ended */
    enum kind kind;       /* what the interpreter file is: OTHER (a program) or SCRIPT (#!) */
};

static void find_interpreter(char *p, char *target, struct choice *choice)
{
    char cfg_path[PATH_MAX], q[PATH_MAX], copy[PATH_MAX + 64];
    const char *named_by, *source = cfg_path; /* where the interpreter was named, for messages */
    enum found found = ALONG_CHAIN;
    enum trust trust = walk(p, cfg_path, &found, 1);
    field("found", found == ALONG_CHAIN ? "along the chain" : found == OWN_VENV ? "own venv" : "recorded");
    choice->found = found;
    strcpy(q, p);
    for (int level = 1;; level++) {
        enum kind kind;
        if (found == RECORDED) {
            named_by = "recorded";
            recorded_in(q, target);
            if (!*target && level == 1)
                die(EXIT_NOT_FOUND, "no pyvenv.cfg beside %s or its parent directory (checked %s); "
                    "link to a venv's bin/python", p, chain);
            if (!*target)
                die(EXIT_NOT_FOUND, "%s is a venvlink stub outside any venv, with no interpreter recorded in it; "
                    "recreate the venv that names it", q);
            snprintf(copy, sizeof copy, "%s, a copy of the stub outside any venv,", q);
            source = copy;
        } else {
            named_by = from_cfg(target, cfg_path, trust, q);
            source = cfg_path;
        }
        kind = kind_of(target);
        if (kind != STUB) {
            /* the open in kind_of is the check of venvlink-executable: exec would fail the same way */
            if (kind == ABSENT && found == RECORDED)
                die(EXIT_NOT_FOUND, "interpreter %s recorded in %s does not exist; "
                    "the Python it was made for was moved or removed", target, source);
            if (kind == ABSENT)
                die(EXIT_NOT_FOUND, MISSING, target, named_by, source);
            choice->named_by = named_by;
            choice->kind = kind;
            return;
        }
        if (level == MAX_LEVELS)
            die(EXIT_NOT_FOUND, "%s, named by %s in %s, is a venvlink stub, not an interpreter, again and again "
                "(a loop?); name a real interpreter there", target, named_by, source);
        trace("%s is a stub: finding what it runs", target);
        strcpy(q, target);
        found = ALONG_CHAIN;
        trust = walk(q, cfg_path, &found, 0);
    }
}

/*
 * Step 5: argv[0]. CPython 3.11+ takes sys._base_executable from home and the
 * name in argv[0], so the name must be the interpreter's own (python3.X, not
 * python, which in home may be another version): the venv's entry of that name
 * beside the hop, when there is one. A copy of the stub outside any venv runs
 * under its own name, as a copied python would: a python3.X beside it belongs to
 * another installation. A #! script (a wrapper such as nixpkgs' makeWrapper
 * makes) gets from the kernel, as $0, the path exec'd, whatever argv[0] says:
 * that path is what its interpreter will see.
 */
static void argv0_for(char *argv0, const char *hop, const char *target, const struct choice *choice)
{
    char dir[PATH_MAX];
    if (choice->kind == SCRIPT) {
        strcpy(argv0, target);
        return;
    }
    if (choice->found == RECORDED) {
        strcpy(argv0, hop);
        return;
    }
    dir_of(dir, hop);
    join(argv0, dir, base_of(target));
    if (access(argv0, F_OK) != 0)
        strcpy(argv0, hop);
}

/* Started set-uid, set-gid or with file capabilities? On Linux the kernel says so, without a syscall. */
static int privileged(void)
{
#ifdef __linux__
    return getauxval(AT_SECURE) != 0;
#else
    return getuid() != geteuid() || getgid() != getegid();
#endif
}

/* One line naming what made this start privileged and how to take it away. */
static void refuse_privilege(const char *self)
{
#ifdef __linux__
    const char *run = (const char *)getauxval(AT_EXECFN);
    self = run && *run ? run : self;
#endif
    if (getuid() != geteuid() || getgid() != getegid())
        die(EXIT_NOT_FOUND, "refusing to run set-uid or set-gid; remove the bit: chmod ug-s %s", self);
    die(EXIT_NOT_FOUND, "refusing to run with file capabilities (the kernel marks this start privileged); "
        "remove them: setcap -r %s", self);
}

/* From the start path p, what to exec and as what; in explain mode the record of it, with the sys.prefix
 * CPython will take from that argv[0]: the directory above its own, if it finds a pyvenv.cfg from it. */
static void resolve(char *p, char *target, char *argv0)
{
    char cfg[PATH_MAX], dir[PATH_MAX], prefix[PATH_MAX] = "";
    struct choice choice;
    field("start", p);
    find_interpreter(p, target, &choice);
    argv0_for(argv0, p, target, &choice);
    trace("exec %s with argv[0] = %s", target, argv0);
    field("exec", target);
    field("named-by", choice.named_by);
    field("argv0", argv0);
    if (explain && find_cfg(cfg, argv0)) {
        dir_of(dir, argv0);
        dir_of(prefix, dir);
    }
    field("prefix", prefix);
}

/* The end of an explained run: what execv would say, without running anything. */
static int explained(const char *target)
{
    if (access(target, X_OK) != 0)
        die(EXIT_CANNOT_EXEC, "cannot run %s: %s", target, strerror(errno));
    field("status", "0");
    return 0;
}

/* --venvlink-explain-paths: one record per argument, each a path as if the kernel had run it. */
static int explain_paths(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char p[PATH_MAX], target[PATH_MAX], argv0[PATH_MAX];
        int status;
        pid_t child = fork(); /* die() ends the child, not the list */
        if (child < 0)
            die(EXIT_NOT_FOUND, "cannot fork: %s", strerror(errno));
        if (child == 0) {
            field("venvlink-explain", note.version);
            make_absolute(p, argv[i]);
            resolve(p, target, argv0);
            status = explained(target);
            write_coverage();
            _exit(status);
        }
        if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
            die(EXIT_NOT_FOUND, "explaining %s failed", argv[i]);
    }
    return 0;
}

#ifndef VENVLINK_FUZZ /* the fuzz harnesses in fuzz/ have their own main */
int main(int argc, char **argv)
{
    char p[PATH_MAX], target[PATH_MAX], argv0[PATH_MAX];
    const char *env = getenv("VENVLINK_DEBUG");
    debug = env && *env && strcmp(env, "0") != 0;

    /* set-uid would let any user pick, through links and pyvenv.cfg, what runs with our rights */
    if (privileged())
        refuse_privilege(argc > 0 && argv[0] ? argv[0] : "the stub");
    /* a #! script's interpreter gets the script as its first argument: never a request to explain */
    int as_script = start_path(p, argc, argv);
    explain = !as_script && argc > 1 && (!strcmp(argv[1], EXPLAIN) || !strcmp(argv[1], EXPLAIN_PATHS));
    if (explain && !strcmp(argv[1], EXPLAIN_PATHS))
        return explain_paths(argc - 1, argv + 1);

    field("venvlink-explain", note.version);
    trace("%s %s, starting from %s", IDENTITY, note.version, p);
    resolve(p, target, argv0);
    if (explain)
        return explained(target);
    char **args = argc > 0 ? argv : (char *[]){NULL, NULL};
    args[0] = argv0;
    write_coverage();
    execv(target, args);
    die(EXIT_CANNOT_EXEC, "cannot run %s: %s", target, strerror(errno));
    return EXIT_CANNOT_EXEC;
}
#endif
