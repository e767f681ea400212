/* A stand-in for the vendor's wlmData library: the same exported prototypes (wlmData.h, as the vendor's
 * wlmData.py declares them), answering from a file the test writes.  The file, named by STUB_WLM_FILE,
 * holds lines "<call> <channel>=<value>" ("GetFrequencyNum 1=281.5", "GetTemperature=-1005") and
 * "mode=hang" or "mode=crash" (the next Get call never returns, or dies of SIGSEGV), read on every call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdint.h>

static double lookup_as(const char *key, double fallback, int obey_mode) {
    const char *path = getenv("STUB_WLM_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[256];
    double value = fallback;
    size_t n = strlen(key);
    if (!f) return fallback;
    while (fgets(line, sizeof line, f)) {
        if (obey_mode && strncmp(line, "mode=hang", 9) == 0) { fclose(f); for (;;) sleep(60); }
        if (obey_mode && strncmp(line, "mode=crash", 10) == 0) { fclose(f); volatile int *nowhere = NULL; *nowhere = 1; }
        if (strncmp(line, key, n) == 0 && line[n] == '=') value = atof(line + n + 1);
    }
    fclose(f);
    return value;
}

static double lookup(const char *key, double fallback) { return lookup_as(key, fallback, 1); }

static double numbered(const char *call, int32_t num, double fallback) {
    char key[64];
    snprintf(key, sizeof key, "%s %d", call, (int)num);
    return lookup(key, fallback);
}

intptr_t Instantiate(int32_t rfc, int32_t mode, intptr_t p1, int32_t p2) {
    (void)rfc; (void)mode; (void)p1; (void)p2;
    return (intptr_t)lookup_as("Instantiate", 1, 0);  /* the Get calls hang or crash, not the check */
}
double GetFrequencyNum(int32_t num, double f) { (void)f; return numbered("GetFrequencyNum", num, -6); }
double GetWavelengthNum(int32_t num, double w) { (void)w; return numbered("GetWavelengthNum", num, -6); }
double GetPowerNum(int32_t num, double p) { (void)p; return numbered("GetPowerNum", num, -6); }
int32_t GetExposureNum(int32_t num, int32_t arr, int32_t e) {
    (void)arr; (void)e; return (int32_t)numbered("GetExposureNum", num, -6);
}
double GetTemperature(double t) { (void)t; return lookup("GetTemperature", -1006); }
double GetPressure(double p) { (void)p; return lookup("GetPressure", -1006); }
double ConvertUnit(double v, int32_t from, int32_t to) {
    (void)from; (void)to; return v / lookup("AirIndex", 1.0);
}
