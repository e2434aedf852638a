/* libFuzzer target: the stub's pyvenv.cfg parser, on any bytes. */
#define VENVLINK_FUZZ
#include "../src/virtualenv_linkable/_stub/stub.c"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cfg c;
    if (size > MAX_CFG)
        size = MAX_CFG;
    memcpy(c.text, data, size);
    if (setjmp(venvlink_fuzz_exit) != 0)
        return 0; /* die(): a clean refusal */
    parse_cfg(&c, size, "fuzz.cfg");
    /* what the parser hands on must point into the text and be terminated there */
    const char *values[] = {c.home, c.venvlink_executable, c.base_executable, c.executable,
                            c.version_info, c.version_key, c.python_version};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (values[i] && (values[i] < c.text || values[i] + strlen(values[i]) > c.text + size))
            __builtin_trap();
    if (!c.home || !*c.home || strlen(c.version) >= sizeof c.version)
        __builtin_trap();
    return 0;
}
