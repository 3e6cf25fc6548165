from micrograd.engine import Value

a = Value(2.0)
b = Value(-3.0)
c = a * b + a.relu()
c.backward()
a.data += 0.01 * a.grad  # a step up the gradient: c grows
b.data += 0.01 * b.grad
