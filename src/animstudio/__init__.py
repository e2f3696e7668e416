"""animstudio: an open-source AI studio for animation.

    $ animstudio doctor
    $ animstudio media sample sample.mp4
    $ animstudio media probe sample.mp4 --json
"""

__version__ = "0.1.0"
