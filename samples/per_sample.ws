# Backpropagation on a computational graph, trained one sample at a time: y_hat = x*w,
# loss = (y_hat - y)^2 on x = [1, 2, 3], y = [2, 4, 6] from w = 1.
#   worksheet train samples/per_sample.ws --lr 0.01 --epochs 100 --per-sample --predict x=4
# The first gradients are -2, -7.84 and -16.2288; after 100 epochs the prediction for x = 4 is about 8.
# The loss is one per sample: derive it for one sample with --at x=1,y=2.
param w = 1
data  x = [1, 2, 3]
data  y = [2, 4, 6]
y_hat = x*w
loss = (y_hat - y)**2
