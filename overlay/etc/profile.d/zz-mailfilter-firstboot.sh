# Starts the setup wizard when root logs in on the console and the appliance is not configured yet,
# or /reconfigure exists (`touch /reconfigure` and reboot brings the wizard back).
# MAILFILTER_ROOT, MAILFILTER_CONSOLE and MAILFILTER_CHPASSWD exist for the tests only.
# root's new password: at least as long as the viewer's (10), typed twice. passwd would only warn
# about a short one when root sets it.
MAILFILTER_ROOT_PASSWORD_MIN=10
mailfilter_root_password() {
  while :; do
    printf 'New password (at least %s characters): ' "$MAILFILTER_ROOT_PASSWORD_MIN"
    stty -echo 2>/dev/null; IFS= read -r first; stty echo 2>/dev/null; echo
    if [ "${#first}" -lt "$MAILFILTER_ROOT_PASSWORD_MIN" ]; then
      echo "Too short: at least $MAILFILTER_ROOT_PASSWORD_MIN characters. Try again."
      continue
    fi
    printf 'Retype new password: '
    stty -echo 2>/dev/null; IFS= read -r second; stty echo 2>/dev/null; echo
    if [ "$first" != "$second" ]; then echo "The passwords differ. Try again."; continue; fi
    if printf 'root:%s\n' "$first" | ${MAILFILTER_CHPASSWD:-chpasswd}; then
      echo "root's password is changed."
      return 0
    fi
    echo "chpasswd refused it. Try again."
  done
}

mailfilter_firstboot() {
  root="${MAILFILTER_ROOT:-}"
  [ "$(id -u)" = 0 ] || return 0
  [ -z "${MAILFILTER_WIZARD_RUNNING:-}" ] || return 0
  console="${MAILFILTER_CONSOLE:-}"
  case "$(tty 2>/dev/null)" in
    /dev/tty[0-9]*|/dev/ttyS[0-9]*|/dev/console|/dev/hvc[0-9]*) console=1 ;;
  esac
  if [ -f "$root/etc/mailfilter/mailfilter.json" ] && [ ! -e "$root/reconfigure" ]; then
    # Configured: the console shows what the appliance is doing (a waiting virus database first).
    [ -z "$console" ] || mailfilter status
    return 0
  fi
  if [ -n "$console" ]; then
    # The image ships with the manual's initial root password: replace it once the setup worked.
    if MAILFILTER_WIZARD_RUNNING=1 mailfilter configure && [ -e "$root/etc/mailfilter-initial-root-password" ]; then
      echo
      echo "root still has the initial password 'password'. Choose a new one now."
      # The console's banner stops offering the initial password with it.
      mailfilter_root_password && rm -f "$root/etc/mailfilter-initial-root-password" "$root/etc/issue.d/mailfilter-setup.issue"
    fi
  else
    echo "This appliance is not configured yet (or /reconfigure exists)."
    echo "Run 'mailfilter configure' to set it up. Over SSH the network restarts at the end,"
    echo "which may end this session: the console is the safer place."
  fi
}
mailfilter_firstboot
unset -f mailfilter_firstboot mailfilter_root_password
unset MAILFILTER_ROOT_PASSWORD_MIN
