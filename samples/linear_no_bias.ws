# Backpropagation on a computational graph: the model y_hat = x·w with squared error,
# at the first sample of x = [1, 2, 3], y = [2, 4, 6] with w = 1.
# dloss/dw = 2(y_hat - y)·x = -2: the first gradient the training loop prints.
param w = 1
data  x = 1
data  y = 2
y_hat = x*w
loss = (y_hat - y)**2
