module vouch.bench/enroll-load

go 1.19
