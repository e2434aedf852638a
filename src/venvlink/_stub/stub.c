/*
 * venvlink's resolving stub.
 *
 * It stands in a linkable venv's bin/ as python, python3 and python3.X. CPython
 * looks for pyvenv.cfg only beside the path it was started as, so a symlink to a
 * venv's python elsewhere runs the base interpreter without the venv. This stub
 * walks the chain of symlinks it was started through until it finds a
 * pyvenv.cfg, then execs the real interpreter with argv[0] set to the path where
 * it found it, so that CPython sees itself inside that venv.
 *
 * The walk is specified in docs/walk.rst; src/venvlink/_walk.py mirrors it and
 * tests/walk_cases.json drives both. libc only, one file, every failing call
 * says what failed and on which file.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif
#ifdef __linux__
#include <sys/auxv.h>
#endif

#define MAX_HOPS 40       /* the kernel's own limit for one path (ELOOP) */
#define MAX_LEVELS 8      /* venvs made from venvs, before we call it a loop */
#define MAX_CFG 65536     /* a pyvenv.cfg is a few hundred bytes */
#define EXIT_NOT_FOUND 127
#define EXIT_CANNOT_EXEC 126
/* in every build of the stub: venvlink tells a stub from an interpreter by it */
#define IDENTITY "venvlink resolving stub"
#define MISSING "interpreter %s named by %s in %s does not exist; " \
    "the Python this venv was made from was moved or removed (recreate the venv)"

static int debug;
static char chain[4096]; /* "a -> b -> c", for the message when no pyvenv.cfg is found */

static void vsay(const char *fmt, va_list ap)
{
    char line[PATH_MAX * 3];
    int n = snprintf(line, sizeof line, "venvlink: ");
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (n >= (int)sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* stderr may be closed; there is nobody else to tell */
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}

static void trace(const char *fmt, ...)
{
    va_list ap;
    if (!debug)
        return;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

#ifdef VENVLINK_FUZZ
#include <setjmp.h>
jmp_buf venvlink_fuzz_exit; /* a fuzz harness survives die(): see fuzz/ */
#endif

static void die(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
#ifdef VENVLINK_FUZZ
    longjmp(venvlink_fuzz_exit, status);
#endif
    _exit(status);
}

/* Drop "." components and repeated slashes of an absolute path, in place. Unlike "..", which
 * depends on directory links and is left to the kernel, they never change what a path names. */
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

static int is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* out = path made absolute against the cwd; 0 if that does not fit (or there is no cwd) */
static int make_absolute(char *out, const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/') {
        if (strlen(path) >= PATH_MAX)
            return 0;
        strcpy(out, path);
        fold(out);
        return 1;
    }
    if (!getcwd(cwd, sizeof cwd) || strlen(cwd) + 1 + strlen(path) >= PATH_MAX)
        return 0;
    join(out, cwd, path);
    return 1;
}

/* The file the kernel started: the stub itself, with every link resolved. */
static void own_path(char *out)
{
#ifdef __APPLE__
    /* untested here: venvlink's CI runs on Linux only */
    char raw[PATH_MAX];
    uint32_t size = sizeof raw;
    if (_NSGetExecutablePath(raw, &size) != 0 || !realpath(raw, out))
        die(EXIT_NOT_FOUND, "cannot find the path of this program");
#else
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n < 0)
        die(EXIT_NOT_FOUND, "cannot read /proc/self/exe: %s", strerror(errno));
    out[n] = '\0';
#endif
}

/* As execvp would find a bare name: the first executable regular file on PATH. */
static int search_path(char *out, const char *name)
{
    const char *path = getenv("PATH");
    char dir[PATH_MAX];
    if (!path)
        path = "/bin:/usr/bin"; /* glibc's execvp default */
    while (1) {
        size_t len = strcspn(path, ":");
        if (len < sizeof dir) {
            memcpy(dir, path, len);
            strcpy(dir + len, len ? "" : "."); /* an empty entry is the cwd */
            if (strlen(dir) + strlen(name) + 2 < PATH_MAX) {
                char candidate[PATH_MAX];
                join(candidate, dir, name);
                if (access(candidate, X_OK) == 0 && is_regular_file(candidate))
                    return make_absolute(out, candidate);
            }
        }
        if (!path[len])
            return 0;
        path += len + 1;
    }
}

/*
 * Step 1: the start path P. argv[0] is trusted only when its whole chain of links
 * ends at this very file; otherwise (argc == 0, a lie, a loop, a vanished file) we
 * start from our own path, which still finds the venv the stub lives in.
 */
static void start_path(char *out, int argc, char **argv)
{
    struct stat self, start;
    const char *argv0 = argc > 0 ? argv[0] : NULL;
    int found = 0;
    if (argv0 && *argv0)
        found = strchr(argv0, '/') ? make_absolute(out, argv0) : search_path(out, argv0);
    if (found && stat(out, &start) == 0 && stat("/proc/self/exe", &self) == 0 &&
        start.st_dev == self.st_dev && start.st_ino == self.st_ino)
        return;
#ifdef __APPLE__
    /* untested here: no /proc, so argv[0] is trusted whenever it names a file */
    if (found && stat(out, &start) == 0)
        return;
#endif
    trace("argv[0] %s does not lead to this program; starting from its own path", argv0 ? argv0 : "(none)");
    own_path(out);
}

/* pyvenv.cfg where CPython's getpath and site.py look: beside P, then one level up. */
static int find_cfg(char *cfg, const char *p)
{
    char dir[PATH_MAX], parent[PATH_MAX];
    dir_of(dir, p);
    join(cfg, dir, "pyvenv.cfg");
    if (is_regular_file(cfg))
        return 1;
    dir_of(parent, dir);
    join(cfg, parent, "pyvenv.cfg");
    return is_regular_file(cfg);
}

static void add_to_chain(const char *p)
{
    static int cut;
    size_t used = strlen(chain);
    if (cut)
        return;
    /* Each addition leaves at least 12 bytes free, room for the " -> ..." that marks a cut chain. */
    cut = used + strlen(p) + 16 > sizeof chain;
    strcat(strcat(chain, used ? " -> " : ""), cut ? "..." : p);
}

/* Step 2: follow P one link at a time until a pyvenv.cfg turns up. */
static void walk(char *p, char *cfg)
{
    for (int hop = 0;; hop++) {
        char target[PATH_MAX], dir[PATH_MAX];
        ssize_t n;
        trace("hop %d: %s", hop, p);
        add_to_chain(p);
        if (find_cfg(cfg, p))
            return;
        if (hop == MAX_HOPS)
            die(EXIT_NOT_FOUND, "more than %d symlinks from %s; is there a loop?", MAX_HOPS, chain);
        n = readlink(p, target, sizeof target - 1);
        if (n < 0 && errno == EINVAL)
            die(EXIT_NOT_FOUND, "no pyvenv.cfg beside %s or its parent directory (checked %s); "
                "link to a venv's bin/python", p, chain);
        if (n < 0)
            die(EXIT_NOT_FOUND, "cannot read the link %s: %s", p, strerror(errno));
        target[n] = '\0';
        if (target[0] == '/') {
            strcpy(p, target);
            fold(p);
        } else { /* relative to the link's directory, '..' kept: it may cross a directory link */
            dir_of(dir, p);
            join(p, dir, target);
        }
    }
}

/* Step 3: pyvenv.cfg as CPython reads it: key = value, first '=' splits, keys
 * case-insensitive, blanks and \r stripped; the first occurrence of a key wins. */
struct cfg {
    char text[MAX_CFG + 1];
    const char *home, *venvlink_executable, *base_executable, *executable;
    const char *version_info, *version_key, *python_version;
    char version[16]; /* "3.X": the first of version_info, version, python-version that has one */
};

static int blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* [s, end) without the blanks around it, terminated */
static char *strip(char *s, char *end)
{
    while (s < end && blank(*s))
        s++;
    while (end > s && blank(end[-1]))
        end--;
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
    char *line;
    if (memchr(c->text, '\0', total))
        die(EXIT_NOT_FOUND, "%s contains a NUL byte; it is not a pyvenv.cfg", path);
    c->text[total] = '\0';
    c->home = c->venvlink_executable = c->base_executable = c->executable = NULL;
    c->version_info = c->version_key = c->python_version = NULL;
    c->version[0] = '\0';
    for (line = c->text; line < c->text + total;) {
        char *end = strchr(line, '\n'), *eq, *key, *value;
        if (!end)
            end = c->text + total;
        *end = '\0';
        eq = strchr(line, '=');
        if (eq) {
            key = strip(line, eq);
            value = strip(eq + 1, end);
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

/*
 * A pyvenv.cfg decides which program runs, and the walk reads directories CPython
 * alone never would (the parents of every hop). Like OpenSSH's StrictModes, trust
 * only a file that no other user can have written. fstat: the file checked is the
 * file read.
 */
static void read_cfg(struct cfg *c, const char *path)
{
    ssize_t n;
    size_t total = 0;
    struct stat st;
    int fd = open(path, O_RDONLY); /* closed before exec: no O_CLOEXEC, which costs musl an fcntl */
    if (fd < 0)
        die(EXIT_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0)
        die(EXIT_NOT_FOUND, "cannot stat %s: %s", path, strerror(errno));
    if (st.st_mode & S_IWOTH)
        die(EXIT_NOT_FOUND, "refusing %s: every user can write it; fix: chmod o-w %s", path, path);
    if (st.st_uid != 0 && st.st_uid != geteuid())
        die(EXIT_NOT_FOUND, "refusing %s: it belongs to uid %ld, not to you or root; fix: chown %ld %s",
            path, (long)st.st_uid, (long)geteuid(), path);
    /* a regular file reads short only at its end: one read() is enough for any pyvenv.cfg */
    while ((n = read(fd, c->text + total, MAX_CFG + 1 - total)) > 0) {
        total += (size_t)n;
        if (total > MAX_CFG)
            die(EXIT_NOT_FOUND, "%s is larger than %d bytes; it is not a pyvenv.cfg", path, MAX_CFG);
        if ((size_t)n < MAX_CFG + 1 - (total - (size_t)n))
            break;
    }
    close(fd);
    if (n < 0)
        die(EXIT_NOT_FOUND, "cannot read %s: %s", path, strerror(errno));
    parse_cfg(c, total, path);
}

static int is_executable_file(const char *path)
{
    return access(path, X_OK) == 0 && is_regular_file(path);
}

/*
 * Step 4: the interpreter to exec. A creator-recorded key names it exactly; only
 * home/python* are guesses tried in turn. Returns 1 when the target was named by
 * venvlink-executable, which venvlink only ever sets to a real interpreter: that
 * one is not checked here, execv tells whether it exists (two syscalls fewer).
 */
static int choose(char *out, const struct cfg *c, const char *cfg_path)
{
    static const char *const keys[] = {"venvlink-executable", "base-executable", "executable"};
    const char *values[] = {c->venvlink_executable, c->base_executable, c->executable};
    char name[32];
    for (int i = 0; i < 3; i++) {
        if (!values[i] || !*values[i])
            continue;
        if (values[i][0] != '/')
            die(EXIT_NOT_FOUND, "%s in %s is not an absolute path: %s", keys[i], cfg_path, values[i]);
        if (i > 0 && !is_executable_file(values[i]))
            die(EXIT_NOT_FOUND, MISSING, values[i], keys[i], cfg_path);
        if (!make_absolute(out, values[i]))
            die(EXIT_NOT_FOUND, "path too long: %s", values[i]);
        return i == 0;
    }
    snprintf(name, sizeof name, "python%s", c->version);
    const char *const guesses[] = {name, "python3", "python"};
    for (int i = c->version[0] ? 0 : 1; i < 3; i++) {
        join(out, c->home, guesses[i]);
        if (is_executable_file(out))
            return 0;
    }
    die(EXIT_NOT_FOUND, "no python in %s (home in %s); "
        "the Python this venv was made from was moved or removed (recreate the venv)", c->home, cfg_path);
    return 0;
}

/* CPython 3.8-3.10 keep '..' of argv[0] in sys.executable; a venv's own python has none. */
static void tidy(char *p)
{
    char dir[PATH_MAX], real[PATH_MAX], base[NAME_MAX + 1];
    if (!strstr(p, "/../"))
        return;
    dir_of(dir, p);
    if (strlen(strrchr(p, '/') + 1) > NAME_MAX || !realpath(dir, real))
        return;
    strcpy(base, strrchr(p, '/') + 1);
    join(p, real, base);
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

/*
 * Steps 2-4: from the start path p, the interpreter to exec and the pyvenv.cfg that
 * named it; p becomes the in-venv argv[0]. Returns choose()'s answer for the target.
 */
static int find_interpreter(char *p, char *target, char *cfg_path)
{
    static struct cfg cfg;
    char nested[PATH_MAX];
    walk(p, cfg_path);
    tidy(p);
    trace("pyvenv.cfg: %s", cfg_path);
    for (int level = 0;; level++) {
        read_cfg(&cfg, cfg_path);
        if (choose(target, &cfg, cfg_path))
            return 1;
        if (!find_cfg(nested, target))
            return 0;
        strcpy(cfg_path, nested);
        /* the target is itself in a venv (on 3.8-3.10 a venv made from a linkable
         * venv gets home = <that venv>/bin): go through that venv, never exec a stub */
        if (level + 1 == MAX_LEVELS)
            die(EXIT_NOT_FOUND, "more than %d venvs made from venvs; is there a loop? (last: %s)",
                MAX_LEVELS, cfg_path);
        trace("%s is in a venv; reading %s", target, cfg_path);
    }
}

#ifndef VENVLINK_FUZZ /* the fuzz harnesses in fuzz/ have their own main */
int main(int argc, char **argv)
{
    char p[PATH_MAX], target[PATH_MAX], cfg_path[PATH_MAX];
    const char *env = getenv("VENVLINK_DEBUG");
    debug = env && *env && strcmp(env, "0") != 0;

    /* set-uid would let any user pick, through links and pyvenv.cfg, what runs with our rights */
    if (privileged())
        die(EXIT_NOT_FOUND, "refusing to run set-uid or set-gid; remove the bit: chmod ug-s %s",
            argc > 0 && argv[0] ? argv[0] : "the stub");

    start_path(p, argc, argv);
    trace("%s, starting from %s", IDENTITY, p);
    int exact = find_interpreter(p, target, cfg_path);
    trace("exec %s with argv[0] = %s", target, p);

    char **args = argc > 0 ? argv : (char *[]){NULL, NULL};
    args[0] = p;
    execv(target, args);
    /* ENOENT also means a script's #! interpreter is missing: only a missing target is "does not exist" */
    if (exact && (errno == ENOENT || errno == ENOTDIR) && access(target, F_OK) != 0)
        die(EXIT_NOT_FOUND, MISSING, target, "venvlink-executable", cfg_path);
    die(EXIT_CANNOT_EXEC, "cannot run %s: %s", target, strerror(errno));
    return EXIT_CANNOT_EXEC;
}
#endif
