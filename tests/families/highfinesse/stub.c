/* A stand-in for the vendor's wlmData library, built by the tests with cc: the same exported prototypes
 * (wlmData.h, as the vendor's wlmData.py declares them), answering from a file the test writes.
 *
 * STUB_ANSWERS names that file: lines "<call> <channel>=<value>" ("GetFrequencyNum 1=281.5"),
 * "<call>=<value>" ("GetTemperature=-1005", "Instantiate=0", "AirIndex=1.000273"), "mode=hang" or
 * "mode=crash" (a Get call never returns, or dies of SIGSEGV), "delay=<s>" (the next Get call returns
 * that much later; the line is then taken out of the file), "chatter=1" (each Get call prints a line on
 * stdout first, as a library's debug output may).  It is read on every call.
 * STUB_CALLS names a file each Get call is appended to, as "<call> <channel>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>

static void take_delay(const char *path) {
    FILE *f = fopen(path, "r");
    char kept[8192] = "", line[256];
    double delay = 0;
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "delay=", 6) == 0) delay = atof(line + 6);
        else if (strlen(kept) + strlen(line) < sizeof kept) strcat(kept, line);
    }
    fclose(f);
    if (delay <= 0) return;
    f = fopen(path, "w");
    if (f) { fputs(kept, f); fclose(f); }
    usleep((useconds_t)(delay * 1e6));
}

static void logged(const char *key) {
    const char *path = getenv("STUB_CALLS");
    FILE *f = path ? fopen(path, "a") : NULL;
    if (f) { fprintf(f, "%s\n", key); fclose(f); }
}

static double answer(const char *key, double fallback, int get) {
    const char *path = getenv("STUB_ANSWERS");
    FILE *f;
    char line[256];
    double value = fallback;
    size_t n = strlen(key);
    if (!path) return fallback;
    if (get) { logged(key); take_delay(path); }
    f = fopen(path, "r");
    if (!f) return fallback;
    while (fgets(line, sizeof line, f)) {
        if (get && strncmp(line, "mode=hang", 9) == 0) { fclose(f); for (;;) sleep(60); }
        if (get && strncmp(line, "mode=crash", 10) == 0) { fclose(f); volatile int *nowhere = NULL; *nowhere = 1; }
        if (get && strncmp(line, "chatter=1", 9) == 0) { printf("wlmData: %s asked\n", key); fflush(stdout); }
        if (strncmp(line, key, n) == 0 && line[n] == '=') value = atof(line + n + 1);
    }
    fclose(f);
    return value;
}

static double numbered(const char *call, int32_t num, double fallback) {
    char key[64];
    snprintf(key, sizeof key, "%s %d", call, (int)num);
    return answer(key, fallback, 1);
}

intptr_t Instantiate(int32_t rfc, int32_t mode, intptr_t p1, int32_t p2) {
    (void)rfc; (void)mode; (void)p1; (void)p2;
    return (intptr_t)answer("Instantiate", 1, 0);  /* the Get calls hang or crash, not the check */
}
double GetFrequencyNum(int32_t num, double f) { (void)f; return numbered("GetFrequencyNum", num, -6); }
double GetWavelengthNum(int32_t num, double w) { (void)w; return numbered("GetWavelengthNum", num, -6); }
double GetPowerNum(int32_t num, double p) { (void)p; return numbered("GetPowerNum", num, -6); }
int32_t GetExposureNum(int32_t num, int32_t arr, int32_t e) {
    (void)arr; (void)e; return (int32_t)numbered("GetExposureNum", num, -6);
}
double GetTemperature(double t) { (void)t; return answer("GetTemperature", -1006, 1); }
double GetPressure(double p) { (void)p; return answer("GetPressure", -1006, 1); }
double ConvertUnit(double v, int32_t from, int32_t to) {
    (void)from; (void)to; return v / answer("AirIndex", 1.0, 0);
}
