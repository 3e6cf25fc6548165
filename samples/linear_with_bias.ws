# Exercise: add a bias b to y_hat = x·w and compute dloss/dw and dloss/db.
# At x = 2, y = 4 with w = 1, b = 0: dloss/dw = 2(y_hat - y)·x = -8, dloss/db = -4.
param w = 1
param b = 0
data  x = 2
data  y = 4
y_hat = x*w + b
loss = (y_hat - y)**2
