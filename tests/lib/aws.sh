# aws.sh: Debian's aws CLI against a test's berthd (sourced after
# functions.sh).  A test without the CLI skips; CI installs awscli.
#
#   $AWS_BIN                    the CLI (Debian's, not one on PATH)
#   aws_credentials KEY SECRET  writes $T/credentials (mode 0600, the key in
#                               [default]), points the CLI at it and at an
#                               empty config, and drops the caller's AWS_*
#                               variables, so nothing of the host leaks in
AWS_BIN=/usr/bin/aws
[ -x "$AWS_BIN" ] || { echo "1..0 # SKIP $AWS_BIN (Debian's awscli) is not installed"; exit 0; }

aws_credentials() {
    printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$1" "$2" \
        >"$T/credentials"
    chmod 600 "$T/credentials"
    : >"$T/awsconfig"
    export AWS_SHARED_CREDENTIALS_FILE="$T/credentials" AWS_CONFIG_FILE="$T/awsconfig" AWS_PAGER=
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
}
