# cw.sh: the local CloudWatch PutMetricData endpoint (cw_endpoint.py) for
# the tests and benches that drive the cloudwatch sink.  Source after
# functions.sh.
#   start_cw_endpoint NAME CREDENTIALS [ARGS...]
#       starts it as background job NAME, checking signatures made with
#       profile cw of CREDENTIALS in region eu-west-1, recording each
#       request in $T/NAME.rec (ARGS: cw_endpoint.py's --fail N,
#       --throttle N, --hang); waits for its port: EP_PORT, its pid EP_PID.
#       Non-zero when it does not start.

start_cw_endpoint() {
    _cw_name=$1
    _cw_creds=$2
    shift 2
    start_bg "$_cw_name" python3 "$top_srcdir/tests/lib/cw_endpoint.py" \
        --credentials "$_cw_creds" --profile cw --region eu-west-1 \
        --record "$T/$_cw_name.rec" --port-file "$T/$_cw_name.port" "$@"
    EP_PID=$LAST_PID
    wait_for 60 test -s "$T/$_cw_name.port" || return 1
    EP_PORT=$(cat "$T/$_cw_name.port")
}
