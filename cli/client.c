/* client.c: the ECS API over berthd's unix socket with libcurl (blocking). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli/client.h"

#define TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."
#define MAX_REPLY (64u << 20) /* a reply larger than this is not berthd's */

struct buf {
    char *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t len = size * nmemb;
    if (b->n + len > MAX_REPLY)
        return 0;
    char *np = realloc(b->p, b->n + len + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, data, len);
    b->p = np;
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

static void set_msg(struct client_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_msg(struct client_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(err->message);
    if (vasprintf(&err->message, fmt, ap) < 0)
        err->message = NULL;
    va_end(ap);
}

/* Why connecting failed, found by connecting ourselves: curl only says it
 * could not. */
static void explain_connect(const char *path, struct client_err *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int e = 0;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        set_msg(err, "cannot reach berthd at %s: the path is longer than a unix "
                     "socket path may be (%zu bytes)", path, sizeof(sa.sun_path) - 1);
        return;
    }
    if (stat(path, &st) < 0) {
        e = errno;
    } else if (!S_ISSOCK(st.st_mode)) {
        set_msg(err, "cannot reach berthd at %s: not a socket (check --socket, "
                     "BERTH_SOCKET or [api] socket in berth.conf)", path);
        return;
    } else {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        strcpy(sa.sun_path, path);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            e = errno;
        if (fd >= 0)
            close(fd);
    }
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        set_msg(err, "cannot reach berthd at %s: no such socket (is berthd running? "
                     "does [api] socket in berth.conf name this path? use --socket "
                     "or BERTH_SOCKET for another)", path);
        break;
    case EACCES:
    case EPERM:
        set_msg(err, "cannot reach berthd at %s: permission denied (the socket's "
                     "mode and group are [api] socket-mode and socket-group in "
                     "berth.conf: join that group or run as root)", path);
        break;
    case ECONNREFUSED:
        set_msg(err, "cannot reach berthd at %s: connection refused (the socket "
                     "is left from a berthd that is no longer running: start "
                     "berthd)", path);
        break;
    default:
        set_msg(err, "cannot reach berthd at %s: %s (is berthd running?)", path,
                strerror(e ? e : EIO));
    }
}

/* The body of an error reply: {"__type": "...", "message": "..."}.  The
 * type may carry a namespace ("ecs#ClientException" or a URL-ish prefix
 * some servers send): only the name after '#' is kept, as botocore does. */
static enum client_rc api_error(const cJSON *body, long code, const char *path,
                                struct client_err *err)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "__type");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "message");
    if (!m)
        m = cJSON_GetObjectItemCaseSensitive(body, "Message");
    if (!cJSON_IsString(t)) {
        set_msg(err, "berthd at %s answered HTTP %ld without an error type", path, code);
        return CLIENT_SOCKET;
    }
    const char *name = strrchr(t->valuestring, '#');
    err->type = strdup(name ? name + 1 : t->valuestring);
    set_msg(err, "%s", cJSON_IsString(m) ? m->valuestring : "");
    return CLIENT_API;
}

enum client_rc client_call(const struct client *cl, const char *action, cJSON *input,
                           cJSON **out, struct client_err *err)
{
    static int curl_ready;
    struct buf reply = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    char target[128];
    struct curl_slist *hdr = NULL;
    enum client_rc rc = CLIENT_SOCKET;
    long code = 0;
    CURL *h = NULL;
    char *body = NULL;

    *out = NULL;
    err->type = err->message = NULL;
    if (!input)
        input = cJSON_CreateObject();
    if (cl->cluster && !cJSON_HasObjectItem(input, "cluster"))
        cJSON_AddStringToObject(input, "cluster", cl->cluster);
    body = cJSON_PrintUnformatted(input);
    cJSON_Delete(input);
    if (!curl_ready) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = 1;
    }
    h = curl_easy_init();
    if (!body || !h) {
        set_msg(err, "out of memory");
        goto out;
    }
    snprintf(target, sizeof(target), "X-Amz-Target: %s%s", TARGET_PREFIX, action);
    hdr = curl_slist_append(hdr, target);
    hdr = curl_slist_append(hdr, "Content-Type: application/x-amz-json-1.1");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, cl->socket);
    curl_easy_setopt(h, CURLOPT_URL, "http://berthd/");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);

    CURLcode cc = curl_easy_perform(h);
    if (cc == CURLE_COULDNT_CONNECT) {
        explain_connect(cl->socket, err);
        goto out;
    }
    if (cc != CURLE_OK) {
        set_msg(err, "%s to berthd at %s failed: %s", action, cl->socket,
                errbuf[0] ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    cJSON *json = reply.p ? cJSON_Parse(reply.p) : NULL;
    if (!cJSON_IsObject(json)) {
        set_msg(err, "berthd at %s answered %s with HTTP %ld and %s", cl->socket,
                action, code, json || reply.n ? "a body that is not a JSON object"
                                              : "no body");
        cJSON_Delete(json);
        goto out;
    }
    if (code == 200) {
        *out = json;
        rc = CLIENT_OK;
    } else {
        rc = api_error(json, code, cl->socket, err);
        cJSON_Delete(json);
    }
out:
    curl_slist_free_all(hdr);
    if (h)
        curl_easy_cleanup(h);
    free(reply.p);
    cJSON_free(body);
    return rc;
}

void client_err_clear(struct client_err *err)
{
    free(err->type);
    free(err->message);
    err->type = err->message = NULL;
}

void client_err_print(const struct client_err *err)
{
    if (err->type)
        fprintf(stderr, "berth: %s: %s\n", err->type, err->message ? err->message : "");
    else
        fprintf(stderr, "berth: %s\n", err->message ? err->message : "unknown error");
}
