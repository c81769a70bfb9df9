"""The sandbox side: what runs next to untrusted student code (inside bubblewrap).

    server.py   the process that executes a notebook's cells and probes its functions
    probes.py   how a student's function is called (plain data in, plain data out)
    wire.py     the plain-data wire format between the judge and the server
    audit.py    the Python audit hook (a second layer for clear messages, not the boundary)

Only this package and the student-facing modules (autograder.gradcheck,
autograder.selfcheck) are mounted into the sandbox; autograder.instructor never is.
"""
