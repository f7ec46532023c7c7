# Starts the setup wizard when root logs in on the console and the appliance is not configured yet,
# or /reconfigure exists (`touch /reconfigure` and reboot brings the wizard back).
# MAILFILTER_ROOT and MAILFILTER_CONSOLE exist for the tests only.
mailfilter_firstboot() {
  root="${MAILFILTER_ROOT:-}"
  [ "$(id -u)" = 0 ] || return 0
  [ -z "${MAILFILTER_WIZARD_RUNNING:-}" ] || return 0
  if [ -f "$root/etc/mailfilter/mailfilter.json" ] && [ ! -e "$root/reconfigure" ]; then
    return 0
  fi
  console="${MAILFILTER_CONSOLE:-}"
  case "$(tty 2>/dev/null)" in
    /dev/tty[0-9]*|/dev/ttyS[0-9]*|/dev/console|/dev/hvc[0-9]*) console=1 ;;
  esac
  if [ -n "$console" ]; then
    # The image ships with the manual's initial root password: replace it once the setup worked.
    if MAILFILTER_WIZARD_RUNNING=1 mailfilter configure && [ -e "$root/etc/mailfilter-initial-root-password" ]; then
      echo
      echo "root still has the initial password 'password'. Choose a new one now:"
      while ! passwd root; do echo "Try again."; done
      rm -f "$root/etc/mailfilter-initial-root-password"
    fi
  else
    echo "This appliance is not configured yet (or /reconfigure exists)."
    echo "Run 'mailfilter configure' to set it up. Over SSH the network restarts at the end,"
    echo "which may end this session: the console is the safer place."
  fi
}
mailfilter_firstboot
unset -f mailfilter_firstboot
