#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include "CMosquitto.h"

/* OpenSSL's, from the libcrypto the broker links (Debian's mosquitto is built with TLS), declared
 * here so that building needs no OpenSSL headers. */
typedef struct x509_st X509;
int i2d_X509(X509 *certificate, unsigned char **out);
void X509_free(X509 *certificate);

void vouch_mosquitto_log(int level, const char *message)
{
	mosquitto_log_printf(level, "%s", message);
}

unsigned char *vouch_mosquitto_certificate_der(const struct mosquitto *client, int *length)
{
	X509 *certificate = mosquitto_client_certificate(client);
	if(!certificate) return NULL;
	int size = i2d_X509(certificate, NULL);
	unsigned char *der = NULL;
	if(size > 0 && size <= 65536){
		der = malloc((size_t)size);
		unsigned char *cursor = der;
		if(der && i2d_X509(certificate, &cursor) != size){
			free(der);
			der = NULL;
		}
	}
	X509_free(certificate);
	if(der) *length = size;
	return der;
}

int vouch_mosquitto_pin(void)
{
	Dl_info info;
	if(!dladdr((void *)&vouch_mosquitto_pin, &info) || !info.dli_fname) return -1;
	return dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE) ? 0 : -1;
}
