#!/bin/bash
# lb_metrics.sh: the proxy's figures through the prometheus plugin, no
# engine needed: an http listener whose target group has no target
# answers 503 three times and refuses a head without Host (400); the
# scrape shows the requests by target group and class, the duration
# histogram (ABI 1.4) with its +Inf bucket, connections and targets.
. "$top_srcdir/tests/lib/functions.sh"
requires curl
requires nc
P=$(free_port); PP=$(free_port)
write_conf "$T/berth.conf" <<EOF2
[plugin prometheus]
address = 127.0.0.1
port = $PP

[listener front]
listen = 127.0.0.1:$P
protocol = http
default-target-group = web
[target-group web]
EOF2
ok "berthd starts" start_berthd "$T/berth.conf" || diag "$(tail -5 $T/berthd.log)"
for i in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:$P/"; done
printf 'GET / HTTP/1.1\r\n\r\n' | nc -w 3 127.0.0.1 $P >/dev/null
# The next export after the last request (every metrics-interval, 1 s).
scrape() { curl -s "http://127.0.0.1:$PP/metrics" | grep berth_lb; }
wait_for 30 eval 'scrape | grep -q "code_class=\"4xx\"} 1" && scrape | grep -q "seconds_count{.*} 3"'
m=$(scrape)
like "requests: 3 503s" "$m" 'berth_lb_requests_total\{.*target_group="web".*code_class="5xx".*\} 3'
like "histogram: 3 in web's count" "$m" 'berth_lb_request_duration_seconds_count\{.*target_group="web".*\} 3'
like "histogram: +Inf bucket" "$m" 'berth_lb_request_duration_seconds_bucket\{.*le="\+Inf".*\} 3'
like "the 400 before routing" "$m" 'berth_lb_requests_total\{.*target_group="".*code_class="4xx".*\} 1'
like "targets gauge" "$m" 'berth_lb_targets\{'
[ -n "$m" ] || diag "nothing from the scrape"
stop_berthd
done_testing
