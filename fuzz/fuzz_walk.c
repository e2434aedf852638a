/*
 * libFuzzer target: the stub's walk and choice of interpreter, over a directory
 * tree the input describes. Each record is [op][dir][name][length][payload]:
 * op 0 makes a directory, 1 a file, 2 a symlink (payload = target), 3 an
 * executable file; dir and name pick from a few names, so files only ever land
 * inside a fresh temporary directory. Then the stub resolves root/a/python.
 */
#define VENVLINK_FUZZ
#include "../src/virtualenv_linkable/_stub/stub.c"

#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>

static char root[PATH_MAX];
static const char *const names[] = {"a", "b", "bin", "v", "pyvenv.cfg", "python", "python3.11", "lib"};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    strcpy(root, "/tmp/venvlink-fuzz-XXXXXX");
    if (!mkdtemp(root) || chdir(root) != 0) /* relative homes resolve inside the tree too */
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[PATH_MAX], entry[PATH_MAX], payload[256], p[PATH_MAX], target[PATH_MAX];
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(root, 0700);
    for (size_t i = 0; i + 4 <= size;) {
        unsigned op = data[i] % 4;
        size_t len = data[i + 3];
        snprintf(dir, sizeof dir, "%s/%s", root, names[data[i + 1] % 8]);
        snprintf(entry, sizeof entry, "%s/%s", dir, names[data[i + 2] % 8]);
        i += 4;
        if (len > size - i)
            len = size - i;
        memcpy(payload, data + i, len);
        payload[len] = '\0';
        i += len;
        mkdir(dir, 0755);
        if (op == 0) {
            mkdir(entry, 0755);
        } else if (op == 2) {
            if (symlink(payload, entry) != 0)
                continue;
        } else {
            FILE *f = fopen(entry, "w");
            if (!f)
                continue;
            fwrite(data + i - len, 1, len, f);
            fclose(f);
            chmod(entry, op == 3 ? 0755 : 0644);
        }
    }
    snprintf(p, sizeof p, "%s/a/python", root);
    if (setjmp(venvlink_fuzz_exit) != 0)
        return 0; /* die(): a clean refusal */
    struct choice choice;
    find_interpreter(p, target, &choice);
    /* what the stub would exec: an absolute path, never a stub, an executable file unless a key (or the copy's
     * record) named it exactly (execv checks that one: 126); argv[0] absolute, with no "." and no ".." */
    int exact = strcmp(choice.named_by, "home") != 0;
    if (p[0] != '/' || target[0] != '/' || strstr(p, "/./") || strstr(p, "//") || has_dotdot(p) ||
        kind_of(target) == STUB || (!exact && !is_executable_file(target)))
        __builtin_trap();
    return 0;
}
