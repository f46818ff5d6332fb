# A thread stopped inside its trace function while that function handles the `call`
# event of traced(): the trace function spins in in_tracer() for good, so that every read
# from outside finds the stack in_tracer -> tracer -> traced -> caller -> <module>. On
# 3.8-3.10 the frame of traced() is then the thread's frame but not yet executing (the
# eval loop marks it so after the call event), the case a torn read also shows.
import sys


def in_tracer():
    print("READY", flush=True)
    while True:  # LINE:spin
        pass


def tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "traced":
        in_tracer()  # LINE:tracer
    return None


def traced():
    return 1  # LINE:traced


def caller():
    sys.settrace(tracer)
    traced()  # LINE:caller


caller()  # LINE:module
