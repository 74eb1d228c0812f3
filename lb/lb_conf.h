/* lb_conf.h: the proxy's sections of berth.conf: [lb], [listener NAME] and
 * [target-group NAME], parsed through agent/conf.c's conf_ext hook.
 *
 * lb_conf_register() must run once before any conf is loaded (berthd's
 * main and the tests call it); lb_conf_of() then gives a loaded conf's
 * proxy sections.  Every key is checked for its type and range (ALB's
 * ranges and defaults); cross references (a listener's target group) are
 * checked once the file is read.  Errors read "FILE:LINE: [SECTION] KEY:
 * ...".  An http listener routes by its ordered rules (first match wins,
 * as ALB's priorities), else to its default target group. */
#ifndef BERTH_LB_CONF_H
#define BERTH_LB_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "berth/plugin.h"

struct conf;

enum lb_proto { LB_PROTO_TCP, LB_PROTO_HTTP };
enum lb_algo { LB_ALGO_ROUND_ROBIN, LB_ALGO_LEAST_OUTSTANDING, LB_ALGO_RANDOM_TWO };
enum lb_check { LB_CHECK_TCP, LB_CHECK_HTTP };
enum lb_pp { LB_PP_NONE, LB_PP_V1, LB_PP_V2 };

struct lb_global {
    int64_t workers;          /* 0: one per core */
    int line;
};

/* rule = HOST PATH-PREFIX TARGET-GROUP: host "*" matches any. */
struct lb_rule {
    char *host, *path, *tg;
    int line;
};

struct lb_listener {
    char *name;
    int line;
    struct berth_address listen;
    char *protocol_s, *default_tg, *rule_s;
    uint64_t idle_timeout_ms, header_timeout_ms, backend_timeout_ms, max_header_size;
    enum lb_proto protocol;
    struct lb_rule *rules;
    size_t n_rules;
    int key_line[8];
};

struct lb_tg {
    char *name;
    int line;
    char *protocol_s, *algorithm_s, *check_s, *check_path, *matcher, *pp_s;
    uint64_t interval_ms, timeout_ms, dereg_ms, slow_start_ms, connect_timeout_ms;
    int64_t healthy_th, unhealthy_th, connect_attempts;
    enum lb_proto protocol;
    enum lb_algo algorithm;
    enum lb_check check;
    enum lb_pp proxy_protocol;
    int key_line[14];
};

struct lb_conf {
    struct lb_global global;
    struct lb_listener *listeners;
    size_t n_listeners;
    struct lb_tg *tgs;
    size_t n_tgs;
};

extern const struct berth_option lb_global_options[];
extern const struct berth_option lb_listener_options[];
extern const struct berth_option lb_tg_options[];

void lb_conf_register(void);
/* The proxy part of c (never NULL once registered). */
const struct lb_conf *lb_conf_of(const struct conf *c);

const struct lb_tg *lb_conf_tg(const struct lb_conf *lc, const char *name);
/* A loadBalancers[].targetGroupArn: NAME itself or
 * arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID. */
const struct lb_tg *lb_conf_tg_ref(const struct lb_conf *lc, const char *ref);
/* 1 when status matches the matcher ("200", "200,302", "200-299"). */
int lb_matcher_ok(const char *matcher, int status);

#endif
