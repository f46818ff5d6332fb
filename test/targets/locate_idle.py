# A target that does nothing but wait: used to check that spyglass finds the
# interpreter, its build and its exact version.
import sys
import time

print("READY", "%d.%d.%d" % sys.version_info[:3], flush=True)
time.sleep(600)
