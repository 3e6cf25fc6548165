# Why loss.mean().backward(): a batch x = [1, 2, 3, 4], y = [2, 4, 6, 8] with w = b = 0.
# The mean's 1/4 shows up in every gradient: dloss/dw = -30, dloss/db = -10,
# so one SGD step with lr = 0.01 gives w = 0.3, b = 0.1.
param w = 0
param b = 0
data x1 = 1
data x2 = 2
data x3 = 3
data x4 = 4
data y1 = 2
data y2 = 4
data y3 = 6
data y4 = 8
e1 = (w*x1 + b - y1)**2
e2 = (w*x2 + b - y2)**2
e3 = (w*x3 + b - y3)**2
e4 = (w*x4 + b - y4)**2
loss = (e1 + e2 + e3 + e4)/4
