#ifndef VOUCH_CMOSQUITTO_H
#define VOUCH_CMOSQUITTO_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* In this order: Mosquitto 2.0.11's plugin header uses a type that only the broker header declares. */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

/* mosquitto_log_printf is variadic, which Swift cannot call: the message goes through "%s". */
void vouch_mosquitto_log(int level, const char *message);

/* The DER of the client's TLS certificate in a buffer of malloc's (free it with free()), its size in
 * *length; NULL when the client presented none. */
unsigned char *vouch_mosquitto_certificate_der(const struct mosquitto *client, int *length);

/* Keeps this library loaded for the life of the process: the broker unloads plugins at exit, and the
 * Swift runtime inside cannot be unloaded. Returns 0 on success. */
int vouch_mosquitto_pin(void);

#endif
